# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
# distutils: language = c++
"""Compiled twin of ``ctcbias.decode.beam._Decoder``: the same search, step for step.

The prefix tree, the per-frame beam, the candidate lists, the bounds, the catalog trie
rows and each node's LM scores live in C++ vectors and hash maps; the LM's word-prefix
set is read through ids kept between decodes (``PrefixTable``: the same answers as the
reference's string tests); the LM queries, the false-accept scorer and the result
objects stay in Python and are called as the reference calls them. Every float is
computed with the same operations in the same order as in ``beam.py`` (Python floats are
C doubles), every sort breaks ties the same way, so both give the same hypotheses and
scores to the last bit: ``tests/decode/test_compiled.py`` holds them to it. ``beam.py``
stays the reference; a change to the search is made in both.

``PrefilterTable`` is the compiled pass of ``prefilter.plausible_entities`` (the acoustic
pre-filter of the entity list): the same entities as its numpy reference.
"""

from cython.operator cimport dereference as deref
from libc.math cimport INFINITY, NAN, exp, log, log1p
from libcpp.algorithm cimport pop_heap, push_heap
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector

import numpy as np

from ctcbias.decode.boost import Confirmed
from ctcbias.decode.lm import LN10, BoostedLM, KenLM, LanguageModel

cdef double NEG_INF = -INFINITY
# Search.flags bits
cdef enum:
    UNVERIFIED = 1
    IN_MATCH = 2
    REJECTED = 4
    FORGOTTEN = 8  # (see _forget)


cdef inline double _lse(double a, double b) noexcept nogil:
    cdef double t
    if a < b:
        t = a
        a = b
        b = t
    if b == NEG_INF:
        return a
    return a + log1p(exp(b - a))


cdef extern from *:
    """
    #include <algorithm>
    #include <functional>
    #include <vector>
    // The search's records and their orders, in C++ so that sorts and heaps inline them.
    struct Cand { int c; double lp; };
    struct Todo { double score; double score_u; int node; int c; double lpc; double ext;
                  int built; };
    struct Scored { double score; int node; };
    // Python's descending sort of (score, score_u, node, c, lpc, ext, new) tuples
    static inline bool todo_desc(const Todo& a, const Todo& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.score_u != b.score_u) return a.score_u > b.score_u;
        if (a.node != b.node) return a.node > b.node;
        if (a.c != b.c) return a.c > b.c;
        if (a.lpc != b.lpc) return a.lpc > b.lpc;
        if (a.ext != b.ext) return a.ext > b.ext;
        return a.built > b.built;
    }
    struct TodoAsc {  // a max-heap whose top is the first in todo_desc's order
        bool operator()(const Todo& a, const Todo& b) const { return todo_desc(b, a); }
    };
    static inline void todo_make_heap(std::vector<Todo>& v) {
        std::make_heap(v.begin(), v.end(), TodoAsc());
    }
    // moves the top of the heap v[0, n) to v[n - 1]
    static inline void todo_pop_heap(std::vector<Todo>& v, size_t n) {
        std::pop_heap(v.begin(), v.begin() + n, TodoAsc());
    }
    // (score, node) descending, as Python sorts (score, node) tuples with reverse=True
    struct ScoredDesc {
        bool operator()(const Scored& a, const Scored& b) const {
            return a.score != b.score ? a.score > b.score : a.node > b.node;
        }
    };
    static inline void scored_sort_desc(std::vector<Scored>& v) {
        std::sort(v.begin(), v.end(), ScoredDesc());
    }
    // the k-th largest of v (1 <= k <= v.size()): what v[k - 1] is once v is sorted
    // descending. The lists are a beam's worth, so the smaller side of it (the k largest,
    // or the n - k + 1 smallest) is kept sorted in a small buffer, by insertion: fewer
    // steps than nth_element's partitions, and v is left as it is. Longer sides go to
    // nth_element (v reordered).
    template <class Before>  // the m-th of v in Before's order (1 <= m <= 16)
    static inline double mth_of(const std::vector<double>& v, size_t m, Before before) {
        double buf[16];
        size_t c = 0;
        for (const double x : v) {
            size_t j;
            if (c < m) j = c++;
            else if (before(x, buf[m - 1])) j = m - 1;
            else continue;
            while (j > 0 && before(x, buf[j - 1])) { buf[j] = buf[j - 1]; --j; }
            buf[j] = x;
        }
        return buf[m - 1];
    }
    static inline double kth_largest(std::vector<double>& v, size_t k) {
        const size_t n = v.size(), low_side = n - k + 1;
        if (k <= low_side && k <= 16)  // the k largest, descending
            return mth_of(v, k, std::greater<double>());
        if (low_side <= 16)  // the n - k + 1 smallest, ascending: the last is the k-th largest
            return mth_of(v, low_side, std::less<double>());
        const size_t i = n - k;
        std::nth_element(v.begin(), v.begin() + i, v.end());
        return v[i];
    }
    // the heap of _heap_add made of the `size` largest of v (the same values as pushing
    // them one by one gives: only its top is ever read); returns v's largest (v not empty)
    static inline double heap_of_largest(std::vector<double>& heap, std::vector<double>& v,
                                         size_t size) {
        const size_t n = v.size();
        heap.clear();
        double best = v[0];
        for (size_t i = 1; i < n; ++i)
            if (v[i] > best) best = v[i];
        if (n <= size) {
            for (size_t i = 0; i < n; ++i) heap.push_back(-v[i]);
        } else {
            // the values above the size-th largest, then as many copies of it as fill
            // the heap: the multiset of the size largest, ties included
            const double t = kth_largest(v, size);
            for (size_t i = 0; i < n; ++i)
                if (v[i] > t) heap.push_back(-v[i]);
            while (heap.size() < size) heap.push_back(-t);
        }
        std::make_heap(heap.begin(), heap.end());
        return best;
    }
    // a stable sort by descending log-prob (Python's sorted(key, reverse=True)), by
    // insertion: the lists are short, and it allocates nothing
    static inline void cand_sort_desc(std::vector<Cand>& v) {
        for (size_t i = 1; i < v.size(); ++i) {
            Cand x = v[i];
            size_t j = i;
            while (j > 0 && v[j - 1].lp < x.lp) { v[j] = v[j - 1]; --j; }
            v[j] = x;
        }
    }
    """
    ctypedef struct Cand:
        int c
        double lp
    ctypedef struct Todo:
        double score
        double score_u
        int node
        int c
        double lpc
        double ext
        int new "built"
    ctypedef struct Scored:
        double score
        int node
    void todo_make_heap(vector[Todo]& v) noexcept nogil
    void todo_pop_heap(vector[Todo]& v, size_t n) noexcept nogil
    void scored_sort_desc(vector[Scored]& v) noexcept nogil
    double kth_largest(vector[double]& v, size_t k) noexcept nogil
    double heap_of_largest(vector[double]& heap, vector[double]& v, size_t size) noexcept nogil
    void cand_sort_desc(vector[Cand]& v) noexcept nogil


cdef struct Event:
    # a confirmed match (``boost.Confirmed``, made from this for the final paths only)
    int entity
    int first
    int last
    int next
    double kept
    double gap
    bint accepted


cdef struct Info:
    double head
    double word_gain
    double most
    double most_u
    double pending
    int state
    int row
    int nconts
    bint open_word
    bint settles


# Python's heapq min-heap of the ``size`` best scores, as a C++ max-heap of their negations.
cdef inline void _heap_add(vector[double]& heap, int size, double score) noexcept nogil:
    # heapq.heappush while fewer than size, else heapreplace when score beats the minimum
    if <int>heap.size() < size:
        heap.push_back(-score)
        push_heap(heap.begin(), heap.end())
    elif score > -heap[0]:
        pop_heap(heap.begin(), heap.end())
        heap[heap.size() - 1] = -score
        push_heap(heap.begin(), heap.end())


cdef inline double _heap_floor(vector[double]& heap, int size, double best, double thr) noexcept nogil:
    cdef double low = -heap[0] if <int>heap.size() == size else NEG_INF
    cdef double b = best + thr
    return low if low > b else b


cdef class TrieTable:
    """The catalog trie as C arrays, for every decode with one compiled catalog: per
    state, its continuations (a dense row over the vocabulary, -1: none, and the tokens
    in the trie's order) and the entity it completes, each made from the Python trie on
    first use (a decode visits a few hundred of its states). A row is filled before it is
    published, with no Python call in between, so threads sharing the table under the
    GIL see whole rows only."""

    cdef object goto_py, match_py, weights
    cdef int size
    cdef vector[int] row_of, dense, row_start, row_len, row_toks
    # per state: depth of the match it completes (0: none, -1: not looked up yet) and
    # that entity (the largest weight of those with the same tokens)
    cdef vector[int] match_depth, match_entity
    cdef vector[double] weight  # per entity

    def __init__(self, goto, match, weights, int vocab_size):
        self.goto_py = goto
        self.match_py = match
        self.weights = weights
        for w in weights:
            self.weight.push_back(w)
        self.size = vocab_size
        self.row_of.assign(len(goto), -1)
        self.match_depth.assign(len(goto), -1)
        self.match_entity.assign(len(goto), -1)

    cdef int row(self, int state) except -1:
        cdef int r = self.row_of[state]
        if r >= 0:
            return r
        items = list(self.goto_py[state].items())  # (Python calls first)
        cdef int tok, nxt
        r = self.row_start.size()
        self.dense.resize((r + 1) * self.size, -1)
        self.row_start.push_back(self.row_toks.size())
        for tok, nxt in items:
            self.dense[r * self.size + tok] = nxt
            self.row_toks.push_back(tok)
        self.row_len.push_back(len(items))
        self.row_of[state] = r
        return r

    cdef int depth(self, int state) except -2:
        """Depth of the entity match that state ``state`` completes (0: none)."""
        cdef int d = self.match_depth[state]
        if d >= 0:
            return d
        found = self.match_py[state]
        cdef int entity = -1
        d = 0
        if found is not None:
            ids = found[0]
            entity = max(ids, key=self.weights.__getitem__) if len(ids) > 1 else ids[0]
            d = found[1]
        self.match_entity[state] = entity
        self.match_depth[state] = d
        return d


cdef class PrefixTable:
    """An LM's word-prefix set (``prefixes``, with its words ``known``) as ids, for every
    decode with those sets and one vocabulary: id 0 is the empty word, the others are the
    prefixes the searches have grown so far. ``grow(id, token)`` is the id of that word
    with the token's text appended (-1: no prefix, it can only end out of vocabulary),
    looked up once per pair and kept, so a search tests no string against the (large,
    cache-missing) Python sets per candidate. The set holds every prefix of each of its
    words (``word_prefixes``), so a word that is no prefix never grows into one: -1 stays
    -1. Entries are added with no Python call in between, so threads sharing the table
    under the GIL see whole entries only."""

    cdef readonly object prefixes, known, pieces
    cdef list strings
    cdef dict ids
    cdef unordered_map[long long, int] grown
    cdef vector[int] start  # per token: the id of a word that starts with it
    cdef vector[char] known_of  # per id: a word of ``known``
    cdef int size

    def __init__(self, prefixes, known, pieces):
        self.prefixes = prefixes
        self.known = known
        self.pieces = tuple(pieces)
        self.size = len(self.pieces)
        self.strings = [""]
        self.ids = {"": 0}
        self.known_of.push_back(0)
        cdef int i
        for text in self.pieces:
            i = self._id(text) if text else 0
            self.start.push_back(i)

    cdef int _id(self, text) except -2:
        if text not in self.prefixes:
            return -1
        found = self.ids.get(text)
        if found is not None:
            return found
        cdef char is_known = self.known is not None and text in self.known
        cdef int i = len(self.strings)
        self.strings.append(text)
        self.ids[text] = i
        self.known_of.push_back(is_known)
        return i

    cdef int grow(self, int word, int token) except -2:
        if word < 0:
            return -1
        cdef long long key = <long long>word * self.size + token
        cdef unordered_map[long long, int].iterator at = self.grown.find(key)
        if at != self.grown.end():
            return deref(at).second
        if self.grown.size() >= 1_000_000:  # (a bound for long-lived tables)
            self.grown.clear()
        cdef int i = self._id(self.strings[word] + self.pieces[token])
        self.grown[key] = i
        return i


cdef class _Run:
    """One forced alignment of (tokens, start frame), carried on frame by frame."""
    cdef vector[int] labels
    cdef vector[char] skip
    cdef vector[double] alpha, finals
    cdef int done


cdef class Gaps:
    """``falseaccept.GapScorer`` compiled, with the same arithmetic: the best path's
    cumulative score per frame, and per (tokens, start) a Viterbi forced alignment kept
    and carried on when the same match is checked up to a later frame."""

    cdef const float[:, :] lp
    cdef int blank
    cdef vector[double] best_cum
    cdef dict cache, runs

    def __init__(self, log_probs, int blank):
        self.lp = log_probs
        self.blank = blank
        self.cache = {}
        self.runs = {}
        # the best token's log-prob per frame, summed in order in double precision (numpy's
        # max is exact and its cumsum adds one after the other: the reference's figures)
        cdef const double[:] cum = np.cumsum(np.asarray(log_probs).max(axis=1), dtype=np.float64)
        cdef Py_ssize_t t
        self.best_cum.reserve(cum.shape[0] + 1)
        self.best_cum.push_back(0.0)
        for t in range(cum.shape[0]):
            self.best_cum.push_back(cum[t])

    cdef double gap(self, tuple tokens, int start, int end) except? -1e300:
        key = (tokens, start, end)
        found = self.cache.get(key)
        if found is not None:
            return found
        cdef double result
        if end < start or not tokens:
            result = INFINITY
        else:
            result = (self.best_cum[end + 1] - self.best_cum[start]
                      - self._viterbi(tokens, start, end)) / len(tokens)
        self.cache[key] = result
        return result

    cdef double _viterbi(self, tuple tokens, int start, int end) except? -1e300:
        cdef _Run run = self.runs.get((tokens, start))
        cdef int s, size, t
        cdef double a, b, last, prev
        cdef vector[double] new
        cdef char flag
        if run is None:
            run = _Run()
            run.labels.push_back(self.blank)
            for tok in tokens:
                run.labels.push_back(tok)
                run.labels.push_back(self.blank)
            size = run.labels.size()
            for s in range(size):
                flag = 0
                if s >= 3 and s % 2 == 1 and run.labels[s] != run.labels[s - 2]:
                    flag = 1
                run.skip.push_back(flag)
            run.alpha.assign(size, NEG_INF)
            run.alpha[0] = self.lp[start, run.labels[0]]
            run.alpha[1] = self.lp[start, run.labels[1]]
            run.done = start
            last = run.alpha[size - 1]
            prev = run.alpha[size - 2]
            if last >= prev:
                run.finals.push_back(last)
            else:
                run.finals.push_back(prev)
            self.runs[(tokens, start)] = run
        size = run.labels.size()
        if end > run.done:
            new.resize(size)
            for t in range(run.done + 1, end + 1):
                new[0] = run.alpha[0] + <double>self.lp[t, run.labels[0]]
                for s in range(1, size):
                    a = run.alpha[s]
                    b = run.alpha[s - 1]
                    if b > a:
                        a = b
                    if run.skip[s]:
                        b = run.alpha[s - 2]
                        if b > a:
                            a = b
                    new[s] = a + <double>self.lp[t, run.labels[s]]
                run.alpha.swap(new)
                last = run.alpha[size - 1]
                prev = run.alpha[size - 2]
                if last >= prev:
                    run.finals.push_back(last)
                else:
                    run.finals.push_back(prev)
            run.done = end
        return run.finals[end - start]


cdef class Search:
    """One decode, as ``beam._Decoder``: built with the same objects, ``run()`` returns the
    final beam as ``[(node, p_blank, p_nonblank)]`` in the reference's order; ``view()``
    gives the node tables the result builder reads."""

    # inputs
    cdef object lp_arr, options, lm, known, prefixes, booster
    cdef object lm_base, boost_words, kenlm_model, kenlm_state
    # KenLM scores a word outside its vocabulary as <unk>: the same query whatever the
    # word, so one per LM state and decode (state -> (log-prob, state after));
    # per prefix id, whether KenLM knows the word (0: not asked yet, 1: yes, 2: no)
    cdef dict unk_queries
    cdef vector[char] kenlm_knows
    cdef double class_boost
    cdef Gaps gaps
    cdef object boosted_lm, piece_py
    cdef const float[:, :] lp
    cdef int size, blank, frames
    cdef bint sp, check, check_partial, has_booster, has_lm, early
    cdef int unbiased_beam
    cdef vector[int] breaks, word_end
    cdef int delimiter
    # options as C values
    cdef double lm_weight, word_bonus, oov_word, oov_char
    cdef double base, scale, cap, settle_gain, completion, rescue_margin
    cdef double margin
    cdef bint has_margin
    cdef int fanout, lag
    # prefix tree
    cdef vector[int] parent, token, frame, trie, mfirst, mlen
    cdef vector[double] before, settled, text, bonus, pend
    # per node with an LM: its unfinished word, the LM state before that word, the LM
    # score, count and out-of-vocabulary penalties of the words before it; the LM
    # log-prob of the unfinished word ended there (NaN: not asked yet) and the state
    # after it; log P(<unk>) in the state before the word (NaN: not asked yet)
    cdef list words, states, ws_state
    cdef vector[double] lm_acc, oov_acc, ws_logp, unk_of
    cdef vector[int] nw_acc
    # per prefix id (see PrefixTable): the word's BOOST class weight, looked up once
    # (boost_at: 0 not yet, 1 no member, 2 a member)
    cdef vector[char] boost_at
    cdef vector[double] boost_w
    # per node, the index in ``events`` of the match confirmed there (-1: none)
    cdef vector[int] ev_of
    cdef vector[Event] events
    # the last entity completed inside the node's match: entity id (-1: none), first and
    # last node
    cdef vector[int] comp_ent, comp_first, comp_last
    cdef unordered_map[long long, int] children
    # per node: its first child and each child's next sibling (-1: none; forgotten ones
    # are skipped), the largest text score of its children with and without their
    # pending bonus (see _Decoder.kid_max)
    cdef vector[int] first_kid, next_kid
    cdef vector[double] kid_max, kid_max_u
    # per node, bit (token % 64) set when it has a child by such a token: most candidates
    # are new tokens, told so without a hash lookup
    cdef vector[unsigned long long] child_bits
    # per trie row, this frame's rescued tokens (built at frame resc_at[row])
    cdef vector[vector[Cand]] resc
    cdef vector[int] resc_at
    cdef dict word_check
    # per node: UNVERIFIED (its confirmed match awaits verification), IN_MATCH (in a match
    # of two tokens or more: the partial-match check looks at it), REJECTED (by the last
    # _check_survivors); and how many nodes have the first two
    cdef vector[char] flags
    cdef int n_unverified, n_in_match
    cdef vector[int] rejected
    cdef vector[int] checked_at  # per node: the last frame a check looked at it
    cdef vector[Info] info
    cdef vector[char] info_valid
    # the catalog trie's rows (see TrieTable)
    cdef TrieTable tab
    cdef int root_row
    # what starting a word with each token costs at once (see _text_score)
    cdef vector[double] start_oov
    # with an LM's prefix set: its ids (see PrefixTable) of each node's unfinished word
    # (-1: no prefix), the words' lengths and the tokens' text lengths
    cdef PrefixTable ptab
    cdef bint has_ptab
    cdef vector[int] pid, wlen, plen
    # beams: the previous frame's (prev_*) and the one being built (cur_*); pos_* map a
    # node to its index there (-1: absent)
    cdef vector[int] prev_node, cur_node, pos_prev, pos_cur
    cdef vector[double] prev_pb, prev_pnb, cur_pb, cur_pnb
    # scratch vectors of _prune and _displaced
    cdef vector[double] s_acoustic, s_old_pb, s_old_pnb, s_unbiased, s_allu
    cdef vector[Scored] s_everyone, s_scored, s_extra
    cdef vector[int] s_todo, s_keep, s_old_node
    cdef int beam_size, u_rank
    cdef double thr

    def __init__(self, log_probs, vocab, options, lm, known, prefixes, booster, early,
                 TrieTable table=None, PrefixTable prefix_table=None):
        self.lp_arr = log_probs
        self.lp = log_probs
        self.frames = log_probs.shape[0]
        self.size = len(vocab)
        self.blank = vocab.blank
        self.options = options
        self.lm = lm
        self.has_lm = lm is not None
        # the LM queried directly where its class is known exactly (a subclass may
        # override what it does): the BOOST class's rule, then KenLM's query
        self.lm_base = lm
        if type(lm) is BoostedLM:
            self.lm_base = lm.base
            self.boost_words = lm.boost_words
            self.class_boost = lm.class_boost
        if type(self.lm_base) is KenLM and KenLM.unk_score is LanguageModel.unk_score:
            self.kenlm_model = self.lm_base.model
            self.kenlm_state = self.lm_base._kenlm.State
            self.unk_queries = {}
        self.known = known
        self.prefixes = prefixes
        self.booster = booster
        self.has_booster = booster is not None
        self.check = self.has_booster and options.false_accept_margin is not None
        self.check_partial = self.check and options.partial_match_check
        self.sp = vocab.kind == "sentencepiece"
        self.delimiter = vocab.delimiter
        self.unbiased_beam = options.unbiased_beam if self.has_booster else 0
        self.early = early
        self.piece_py = list(vocab.text)
        for text in self.piece_py:
            self.plen.push_back(len(text))
        self.has_ptab = prefixes is not None and self.has_lm
        if self.has_ptab:
            if prefix_table is None or prefix_table.prefixes is not prefixes \
                    or prefix_table.known is not known \
                    or prefix_table.pieces != tuple(self.piece_py):
                prefix_table = PrefixTable(prefixes, known, self.piece_py)
            self.ptab = prefix_table
        cdef bint flag
        for b in vocab.breaks_word:
            flag = b
            self.breaks.push_back(flag)
        self.lm_weight = options.lm_weight
        self.word_bonus = options.word_insertion_bonus
        self.oov_word = options.oov_penalty
        self.oov_char = options.oov_char_penalty
        self.has_margin = options.false_accept_margin is not None
        self.margin = options.false_accept_margin if self.has_margin else 0.0
        self.fanout = options.rescue_max_fanout
        self.lag = options.partial_check_lag
        self.beam_size = options.beam_size
        self.u_rank = options.unbiased_rank
        self.thr = options.beam_threshold
        self.boosted_lm = (
            lm if isinstance(lm, BoostedLM) and self.check and options.verify_class_words
            else None
        )
        self.parent.push_back(-1)
        self.token.push_back(-1)
        self.frame.push_back(-1)
        self.before.push_back(0.0)
        self.settled.push_back(0.0)
        self.text.push_back(0.0)
        self.bonus.push_back(0.0)
        self.pend.push_back(0.0)
        self.trie.push_back(0)
        self.mfirst.push_back(0)
        self.mlen.push_back(0)
        self.words = [""]
        self.states = [lm.start() if lm is not None else None]
        self.ws_state = [None]
        self.lm_acc.push_back(0.0)
        self.oov_acc.push_back(0.0)
        self.nw_acc.push_back(0)
        self.ws_logp.push_back(NAN)
        self.unk_of.push_back(NAN)
        self.pid.push_back(0)
        self.wlen.push_back(0)
        self.ev_of.push_back(-1)
        self.comp_ent.push_back(-1)
        self.comp_first.push_back(0)
        self.comp_last.push_back(0)
        self.word_check = {}
        self._grow()
        if self.has_booster:
            self.base = booster.base
            self.scale = booster.scale
            self.cap = booster.cap
            self.settle_gain = booster.settle_gain
            self.completion = booster.completion
            self.rescue_margin = booster.rescue_margin
            self.tab = table
            for b in booster.word_end:
                flag = b
                self.word_end.push_back(flag)
            self.root_row = self.tab.row(0)
        if self.check:
            self.gaps = Gaps(log_probs, self.blank)

    cdef inline void _flag(self, int node, char bit) noexcept:
        if not self.flags[node] & bit:
            self.flags[node] |= bit
            if bit == UNVERIFIED:
                self.n_unverified += 1
            elif bit == IN_MATCH:
                self.n_in_match += 1

    cdef inline void _unflag(self, int node, char bit) noexcept:
        if self.flags[node] & bit:
            self.flags[node] &= ~bit
            if bit == UNVERIFIED:
                self.n_unverified -= 1
            elif bit == IN_MATCH:
                self.n_in_match -= 1

    cdef inline bint _stalls(self, int node, int frame) noexcept:
        """As ``_Decoder._stalls``."""
        return (self.check_partial and (self.flags[node] & IN_MATCH) != 0
                and self.pend[node] > 0.0 and self.frame[node] < frame - self.lag)

    cdef void _forget(self, int node) noexcept:
        """As ``_Decoder._forget``: a node built at this frame that did not survive it."""
        self.children.erase(<long long>self.parent[node] * self.size + self.token[node])
        self.flags[node] |= FORGOTTEN  # (and out of its parent's children, see run)
        self._unflag(node, UNVERIFIED)
        self._unflag(node, IN_MATCH)

    cdef inline void _reject(self, int node) noexcept:
        if not self.flags[node] & REJECTED:
            self.flags[node] |= REJECTED
            self.rejected.push_back(node)

    cdef void _grow(self):
        self.pos_prev.push_back(-1)
        self.pos_cur.push_back(-1)
        self.info_valid.push_back(0)
        self.checked_at.push_back(-1)
        self.flags.push_back(0)
        self.child_bits.push_back(0)
        self.first_kid.push_back(-1)
        self.next_kid.push_back(-1)
        self.kid_max.push_back(NEG_INF)
        self.kid_max_u.push_back(NEG_INF)
        cdef Info blank_info
        self.info.push_back(blank_info)

    # ------------------------------------------------------------------ trie rows
    cdef inline int _row(self, int state) except -1:
        cdef int r = self.tab.row_of[state]
        return r if r >= 0 else self.tab.row(state)

    cdef inline int _goto(self, int row, int tok) noexcept:
        return self.tab.dense[row * self.size + tok]

    cdef bint _matches(self, int state) except -1:
        """``booster.match[state] is not None``."""
        cdef int d = self.tab.match_depth[state]
        return (d if d >= 0 else self.tab.depth(state)) > 0

    cdef inline bint _rescuable(self, int state, int row) noexcept:
        cdef int n = self.tab.row_len[row]
        return state != 0 and 0 < n <= self.fanout

    cdef inline bint _starts_word(self, int prev, int tok) noexcept:
        if self.sp:
            return self.breaks[tok] or prev < 0
        return (prev < 0 or prev == self.delimiter) and tok != self.delimiter

    # ------------------------------------------------------------------ prefix nodes
    cdef double _oov(self, word):
        return self._oov_len(len(word))

    cdef inline double _oov_len(self, Py_ssize_t n) noexcept:
        """The out-of-vocabulary penalty of a word of ``n`` characters."""
        return self.oov_word + self.oov_char * n

    cdef double _text_score(self, double lm, int words, double settled, double pending,
                            int node, double oov):
        """(``node``: whose unfinished word is scored, -1: none)"""
        if not self.has_lm:
            return settled + pending
        cdef double score = self.lm_weight * lm + self.word_bonus * words + settled + pending
        if self.has_ptab:
            if node >= 0 and self.wlen[node] and self.pid[node] < 0:
                oov += self._oov_len(self.wlen[node])
            score += oov
        return score

    cdef int child(self, int node, int token, int frame, double token_lp, double top_lp,
                   double before) except -1:
        cdef int new = self.parent.size()
        cdef double lm_score, oov, logp, gain, penalty, settled, pending = 0.0, delta = 0.0
        cdef int n_words, event
        self.children[<long long>node * self.size + token] = new
        self.child_bits[node] |= (<unsigned long long>1) << (token & 63)
        self.parent.push_back(node)
        self.token.push_back(token)
        self.frame.push_back(frame)
        self.before.push_back(before)
        self._grow()
        word = ""
        oov = 0.0
        lm_score = 0.0
        n_words = 0
        cdef double unk = NAN
        if self.has_lm:
            lm_state = self.states[node]
            lm_score = self.lm_acc[node]
            n_words = self.nw_acc[node]
            oov = self.oov_acc[node]
            unk = self.unk_of[node]
            if self.breaks[token]:
                if self.wlen[node]:
                    unk = NAN
                    lm_state = self._end_word(node, &logp, &penalty, &gain)
                    lm_score += logp
                    n_words += 1
                    oov += penalty
                    if gain > 0:
                        self.word_check[new] = (self._word_start(node), node, gain)
                        self._flag(new, UNVERIFIED)
                if self.sp:
                    word = self.piece_py[token]
                    self.wlen.push_back(self.plen[token])
                    self.pid.push_back(self._start_id(token))
                else:
                    word = ""
                    self.wlen.push_back(0)
                    self.pid.push_back(0)
            else:
                word = self.words[node] + self.piece_py[token]
                self.wlen.push_back(self.wlen[node] + self.plen[token])
                self.pid.push_back(self.ptab.grow(self.pid[node], token) if self.has_ptab else -1)
            self.words.append(word)
            self.states.append(lm_state)
            self.ws_state.append(None)
            self.lm_acc.push_back(lm_score)
            self.nw_acc.push_back(n_words)
            self.oov_acc.push_back(oov)
            self.ws_logp.push_back(NAN)
            self.unk_of.push_back(unk)
        settled = self.settled[node]
        event = -1
        if self.has_booster:
            event = self._boost(node, token, new, token_lp, top_lp, &pending, &delta)
            settled += delta
        self.settled.push_back(settled)
        self.ev_of.push_back(event)
        cdef double score = self._text_score(lm_score, n_words, settled, pending,
                                             new if self.has_lm else -1, oov)
        self.text.push_back(score)
        self.next_kid[new] = self.first_kid[node]
        self.first_kid[node] = new
        if score > self.kid_max[node]:
            self.kid_max[node] = score
        if score - pending > self.kid_max_u[node]:
            self.kid_max_u[node] = score - pending
        return new

    cdef inline int _start_id(self, int token) noexcept:
        """The prefix id of a word started by ``token`` (-1: none, or no prefix set)."""
        # (not a conditional expression: Cython makes its value a reference to the
        # vector element, and the other branch then writes through a null one)
        if self.has_ptab:
            return self.ptab.start[token]
        return -1

    cdef double word_score(self, int node) except? -1e300:
        """The LM log-prob of the unfinished word of ``node`` (asked once per node; the
        state after it goes to ``ws_state``)."""
        cdef double logp = self.ws_logp[node]
        if logp == logp:  # (not NaN: asked before)
            return logp
        self.ws_state[node] = self._lm_score(node, &logp)
        self.ws_logp[node] = logp
        return logp

    cdef object _lm_score(self, int node, double* logp_out):
        """``self.lm.score(state, word)`` of node's state and unfinished word, with the
        BOOST class of a ``BoostedLM`` and the query of a ``KenLM`` made here (the same
        calls and arithmetic, a Python frame or two fewer per query): sets the log-prob,
        returns the state after the word."""
        cdef double logp, boosted, weight
        word = self.words[node]
        state = self.states[node]
        if self.kenlm_model is not None:
            if self.has_ptab and self._kenlm_unknown(node, word):
                logp, out = self._unk_query(state)
            else:
                out = self.kenlm_state()
                logp = self.kenlm_model.BaseScore(state, word, out) * LN10
        else:
            logp, out = self.lm_base.score(state, word)
        if self.boost_words is not None and self._boost_weight(node, word, &weight):
            boosted = self._unk(node) + self.class_boost + weight
            if boosted > logp:
                logp = boosted
        logp_out[0] = logp
        return out

    cdef bint _boost_weight(self, int node, word, double* weight) except -1:
        """Whether node's unfinished word is in the BOOST class (its weight to
        ``weight``), looked up once per prefix id."""
        cdef int i = self.pid[node] if self.has_ptab else -1
        if i < 0:
            found = self.boost_words.get(word)
            if found is None:
                return False
            weight[0] = found
            return True
        if i >= <int>self.boost_at.size():
            self.boost_at.resize(i + 1, 0)
            self.boost_w.resize(i + 1, 0.0)
        if self.boost_at[i] == 0:
            found = self.boost_words.get(word)
            # (two statements: Cython types a conditional expression assigned to a
            # vector element as a reference to a temporary, and stores nothing)
            if found is None:
                self.boost_at[i] = 1
            else:
                self.boost_at[i] = 2
                self.boost_w[i] = found
        weight[0] = self.boost_w[i]
        return self.boost_at[i] == 2

    cdef double _unk(self, int node) except? -1e300:
        """``_unk_score`` of the state before node's unfinished word, asked once per word
        start (the nodes that grow the word inherit it)."""
        cdef double u = self.unk_of[node]
        if u != u:
            u = self.unk_of[node] = self._unk_score(self.states[node])
        return u

    cdef double _unk_score(self, state) except? -1e300:
        if self.kenlm_model is not None:
            return self._unk_query(state)[0]
        return self.lm_base.unk_score(state)

    cdef tuple _unk_query(self, state):
        """KenLM's query of <unk> after ``state``: (log-prob, state after), made once per
        state and decode."""
        found = self.unk_queries.get(state)
        if found is None:
            out = self.kenlm_state()
            found = self.unk_queries[state] = (
                self.kenlm_model.BaseScore(state, "<unk>", out) * LN10, out)
        return found

    cdef bint _kenlm_unknown(self, int node, word) except -1:
        """Whether node's unfinished word is outside KenLM's vocabulary, so that its query
        is the query of <unk> (KenLM maps every such word to <unk>: the same score, the same
        state after). A word that is no prefix of the known words is no LM word (the known
        words hold the LM's, less <s> and </s>); the others are asked once per prefix id."""
        cdef int i = self.pid[node]
        if i < 0:
            return word != "<s>" and word != "</s>"
        if i >= <int>self.kenlm_knows.size():
            self.kenlm_knows.resize(i + 1, 0)
        if self.kenlm_knows[i] == 0:
            # (two statements, as in _boost_weight)
            if word in self.kenlm_model:
                self.kenlm_knows[i] = 1
            else:
                self.kenlm_knows[i] = 2
        return self.kenlm_knows[i] == 2

    cdef object _end_word(self, int node, double* logp, double* penalty, double* gain):
        """As ``_Decoder._end_word``: sets the LM log-prob of the unfinished word of
        ``node``, its out-of-vocabulary penalty and the BOOST class's gain (checked class
        words only, else 0); returns the LM state after it."""
        word = self.words[node]
        cdef double lp = self.word_score(node)
        state = self.ws_state[node]
        logp[0] = lp
        cdef int w = self.pid[node] if self.has_ptab else -1
        cdef bint unknown = self.known is not None and (
            not self.ptab.known_of[w] if w >= 0 else word not in self.known)
        penalty[0] = self._oov(word) if unknown else 0.0
        gain[0] = self._class_gain(node, word, lp) if self.boosted_lm is not None else 0.0
        return state

    cdef double _class_gain(self, int node, word, double logp) except? -1e300:
        lm = self.boosted_lm
        if word not in lm.boost_words:
            return 0.0
        cdef double base = lm.base.score(self.states[node], word)[0]
        cdef double gain = self.lm_weight * (logp - base)
        if self.known is not None and lm.base.words is not None and word not in lm.base.words:
            gain -= self._oov(word)
        return gain

    cdef int _word_start(self, int node):
        if self.sp:
            while not self.breaks[self.token[node]] and self.parent[node] > 0:
                node = self.parent[node]
            return node
        while self.parent[node] > 0 and not self.breaks[self.token[self.parent[node]]]:
            node = self.parent[node]
        return node

    cdef int _boost(self, int node, int token, int new, double token_lp, double top_lp,
                    double* pending_out, double* delta_out) except -2:
        """As ``_Decoder._boost``: appends the new node's boosting state, sets the pending
        sum and the settled change, returns the confirmed match (its index in ``events``;
        -1: none)."""
        cdef int state = self.trie[node]
        cdef int nxt, row
        cdef double bonus, gap, extra, pending, delta = 0.0
        cdef int event = -1
        cdef int ce, cf, cl
        if state:
            self._comp_of(node, state, self.word_end[token], &ce, &cf, &cl)
            row = self._row(state)
            nxt = self._goto(row, token)
            if nxt >= 0:
                bonus = self.base
                gap = top_lp - token_lp
                if gap > 0:
                    extra = self.scale * gap
                    bonus += extra if extra < self.cap else self.cap
                pending = self.pend[node] + bonus
                self.trie.push_back(nxt)
                self.bonus.push_back(bonus)
                self.pend.push_back(pending)
                self.comp_ent.push_back(ce)
                self.comp_first.push_back(cf)
                self.comp_last.push_back(cl)
                self.mfirst.push_back(self.mfirst[node])
                self.mlen.push_back(self.mlen[node] + 1)
                self._flag(new, IN_MATCH)
                pending_out[0] = pending
                delta_out[0] = delta
                return event
            if ce >= 0:
                event = self._settle(ce, cf, cl, node, new, False, &delta)
                if self.check:
                    self._flag(new, UNVERIFIED)
        nxt = self._goto(self.root_row, token)
        if nxt >= 0 and self._starts_word(self.token[node], token):
            pending = self.base
        else:
            nxt = 0
            pending = 0.0
        self.trie.push_back(nxt)
        self.bonus.push_back(pending)
        self.pend.push_back(pending)
        self.comp_ent.push_back(-1)
        self.comp_first.push_back(0)
        self.comp_last.push_back(0)
        if nxt:  # (no conditional expressions inside push_back: Cython mistranslates them)
            self.mfirst.push_back(new)
            self.mlen.push_back(1)
        else:
            self.mfirst.push_back(0)
            self.mlen.push_back(0)
        pending_out[0] = pending
        delta_out[0] = delta
        return event

    cdef bint _completed(self, int state, int node, int* entity, int* first) except -1:
        """Whether trie state ``state`` completes an entity at ``node``: then its id and
        its first node (depth - 1 nodes up)."""
        cdef int depth = self.tab.match_depth[state]
        if depth < 0:
            depth = self.tab.depth(state)
        if depth == 0:
            return False
        cdef int up = node
        cdef int i
        for i in range(depth - 1):
            up = self.parent[up]
        entity[0] = self.tab.match_entity[state]
        first[0] = up
        return True

    cdef int _comp_of(self, int node, int state, bint ends_word, int* ce, int* cf,
                      int* cl) except -1:
        """The entity (id, first node, last node; id -1: none) that leaving the match at
        ``node`` (trie state ``state``) confirms: the one completed at ``node`` if a word
        ends there and one does, else the last one completed inside the match (the
        reference's ``self._completed(state, node) or self.comp[node]``)."""
        if ends_word and self._completed(state, node, ce, cf):
            cl[0] = node
        else:
            ce[0] = self.comp_ent[node]
            cf[0] = self.comp_first[node]
            cl[0] = self.comp_last[node]
        return 0

    cdef int _settle(self, int entity_id, int first, int last, int end, int following,
                     bint verify, double* kept_out) except -1:
        """Confirm entity ``entity_id`` (nodes ``first``..``last``) of the match ending at
        ``end``, left by ``following`` (-1: the end): sets the bonus kept, returns the
        event (its index in ``events``)."""
        cdef Event ev
        ev.entity = entity_id
        ev.first = first
        ev.last = last
        ev.next = following
        ev.kept = 0.0
        ev.gap = NAN
        ev.accepted = True
        cdef int node = end
        while node != last:
            ev.next = node
            node = self.parent[node]
        if verify:
            ev.accepted = self._verify(first, last, ev.next, &ev.gap)
        if ev.accepted:
            ev.kept = self.completion + self.tab.weight[entity_id]
            node = last
            while True:
                ev.kept += self.bonus[node]
                if node == first:
                    break
                node = self.parent[node]
        kept_out[0] = ev.kept
        self.events.push_back(ev)
        return self.events.size() - 1

    cdef object _confirmed(self, int event):
        """Event ``event`` as the reference's ``Confirmed`` (None for -1)."""
        if event < 0:
            return None
        cdef Event* ev = &self.events[event]
        return Confirmed(ev.entity, ev.first, ev.last, ev.next, ev.kept, ev.accepted, ev.gap)

    cpdef tuple finish(self, int node):
        cdef double lm_score = 0.0, oov = 0.0, logp, penalty, gain, gap
        cdef int n_words = 0
        word, state = "", None
        if self.has_lm:
            word, state = self.words[node], self.states[node]
            lm_score, n_words, oov = self.lm_acc[node], self.nw_acc[node], self.oov_acc[node]
        cdef double revoked = 0.0
        cdef double delta = 0.0
        cdef int ce, cf, cl
        if self.has_lm:
            if word:
                state = self._end_word(node, &logp, &penalty, &gain)
                lm_score += logp
                n_words += 1
                oov += penalty
                if gain > 0 and not self._verify(self._word_start(node), node, -1, &gap):
                    revoked = gain
            lm_score += self.lm.finish(state)
        cdef double settled = self.settled[node]
        event = None
        if self.has_booster and self.trie[node]:
            self._comp_of(node, self.trie[node], True, &ce, &cf, &cl)
            if ce >= 0:
                event = self._confirmed(self._settle(ce, cf, cl, node, -1, self.check, &delta))
                settled += delta
        text = self._text_score(lm_score, n_words, settled, 0.0, -1, oov) - revoked
        return text, lm_score, n_words, settled, event

    cdef bint _verify(self, int first, int last, int following, double* gap) except -1:
        """As ``_Decoder._verify``: whether the check accepts; sets the gap."""
        cdef int start = self.frame[first]
        cdef int end = self.frame[following] - 1 if following >= 0 else self.frames - 1
        if self.frame[last] > end:
            end = self.frame[last]
        gap[0] = self.gaps.gap(self._tokens(first, last), start, end)
        return (not self.has_margin) or gap[0] <= self.margin

    cdef tuple _tokens(self, int first, int last):
        tokens = []
        cdef int node = last
        while True:
            tokens.append(self.token[node])
            if node == first:
                break
            node = self.parent[node]
        return tuple(reversed(tokens))

    # ------------------------------------------------------------------ search
    cdef Info* _parent_info(self, int node) except NULL:
        cdef Info* inf = &self.info[node]
        if self.info_valid[node]:
            return inf
        self.info_valid[node] = 1
        cdef double word_gain = 0.0, most, most_u, leave
        cdef bint open_word = False
        cdef int w = self.pid[node] if self.has_ptab else -1
        open_word = w >= 0
        if self.has_lm and self.wlen[node]:
            word_gain = self.lm_weight * self.word_score(node) + self.word_bonus
            if open_word and self.known is not None and not self.ptab.known_of[w]:
                word_gain += self._oov_len(self.wlen[node])
        most = word_gain if word_gain > 0 else 0.0
        most_u = most
        cdef int state = 0, row = -1, nconts = 0
        cdef double pending = 0.0
        cdef bint settles = False
        if self.has_booster:
            state = self.trie[node]
            pending = self.pend[node]
            if state:
                row = self._row(state)
                nconts = self.tab.row_len[row]
                settles = self.comp_ent[node] >= 0 or self._matches(state)
                if settles:  # leaving confirms an entity, or abandons the match
                    leave = self.settle_gain if self.settle_gain > -pending else -pending
                    most += leave
                    most_u += leave
                else:
                    most -= pending
                    most_u -= pending
            else:
                most_u -= pending
            most += self.base
        inf.head = self.text[node]
        inf.word_gain = word_gain
        inf.most = most
        inf.most_u = most_u
        inf.pending = pending
        inf.state = state
        inf.row = row
        inf.nconts = nconts
        inf.open_word = open_word
        inf.settles = settles
        return inf

    cdef void _beam_add(self, int node, double pb, double pnb):
        self.pos_cur[node] = self.cur_node.size()
        self.cur_node.push_back(node)
        self.cur_pb.push_back(pb)
        self.cur_pnb.push_back(pnb)

    cdef void _next_frame(self):
        """The beam being built becomes the previous frame's; a new one starts empty."""
        cdef Py_ssize_t i
        for i in range(<Py_ssize_t>self.prev_node.size()):
            self.pos_prev[self.prev_node[i]] = -1
        self.prev_node.swap(self.cur_node)
        self.prev_pb.swap(self.cur_pb)
        self.prev_pnb.swap(self.cur_pnb)
        for i in range(<Py_ssize_t>self.prev_node.size()):
            self.pos_cur[self.prev_node[i]] = -1
            self.pos_prev[self.prev_node[i]] = i
        self.cur_node.clear()
        self.cur_pb.clear()
        self.cur_pnb.clear()

    def run(self):
        opts = self.options
        cdef int frames = self.frames, size = self.size, blank = self.blank
        cdef double log_skip = log(opts.blank_skip_threshold) if opts.blank_skip_threshold < 1 else 1.0
        cdef int topk = min(opts.token_prune_topk, size - 1)
        cdef int beam_size = opts.beam_size
        cdef bint has_booster = self.has_booster
        cdef double start_gain = self.base, cap = self.cap, scale = self.scale
        cdef bint slots_on = self.unbiased_beam > 0
        cdef int u_rank = opts.unbiased_rank
        cdef bint early = self.early
        cdef int few_conts = 12
        self.start_oov.clear()
        cdef double oov_cost
        cdef int tok
        for tok in range(size):
            oov_cost = 0.0
            if self.has_ptab and self.sp and self.plen[tok] and self.ptab.start[tok] < 0:
                oov_cost = self._oov_len(self.plen[tok])
            self.start_oov.push_back(oov_cost)
        cdef double thr = opts.beam_threshold
        cdef double prune_threshold = opts.prune_threshold
        cdef const float[:, :] lp = self.lp
        # the top-k tokens of every frame, as the reference takes them (same ties)
        cdef const int[:, :] top_idx
        cdef bint use_topk = topk < size - 1
        if use_topk:
            top_idx = np.ascontiguousarray(
                np.argpartition(self.lp_arr, size - topk - 1, axis=1)[:, size - topk - 1:]
            ).astype(np.intc)
        cdef vector[double] rowl
        rowl.resize(size)
        cdef vector[Cand] cands
        cdef vector[int] cand_set
        cand_set.assign(size, 0)
        cdef vector[int] t_node, t_last
        cdef vector[double] t_pb, t_total, stay, reach, stay_u, reach_u, heap_s, heap_u
        cdef vector[Todo] todo
        cdef Todo td
        cdef Cand cd
        cdef Info* inf
        cdef Info inf_v
        cdef vector[Cand]* rescued
        cdef int t, c, i, j, k, n_t, node, p, last, state, row, new, key_row, nconts
        cdef double blank_lp, top_lp, floor, rescue_floor, pb, pnb, total, s, r, ext
        cdef double low, low_u, best_s = 0.0, best_u = 0.0, lo, lo_u, guess, base_s, cut, cut_c
        cdef double need, bound, cut_u, first_cut, lpc, score, score_u, head, word_gain, pending
        cdef int n_todo, first_new
        cdef bint rescuable
        self._beam_add(0, 0.0, NEG_INF)
        self._next_frame()
        for t in range(frames):
            blank_lp = lp[t, blank]
            if blank_lp >= log_skip:
                for i in range(<int>self.prev_node.size()):
                    node = self.prev_node[i]
                    pb = self.prev_pb[i]
                    pnb = self.prev_pnb[i]
                    last = self.token[node]
                    self._beam_add(node, _lse(pb, pnb) + blank_lp,
                                   pnb + <double>lp[t, last] if last >= 0 else NEG_INF)
                self._next_frame()
                continue
            first_new = self.parent.size()  # the nodes built from here on are this frame's
            top_lp = NEG_INF
            for c in range(size):
                rowl[c] = lp[t, c]
                if rowl[c] > top_lp:
                    top_lp = rowl[c]
            floor = top_lp + prune_threshold
            cands.clear()
            if use_topk:
                for j in range(topk + 1):
                    c = <int>top_idx[t, j]
                    if c != blank and rowl[c] >= floor:
                        cd.c = c
                        cd.lp = rowl[c]
                        cands.push_back(cd)
            else:
                for c in range(size):
                    if c != blank and rowl[c] >= floor:
                        cd.c = c
                        cd.lp = rowl[c]
                        cands.push_back(cd)
            cand_sort_desc(cands)
            rescue_floor = top_lp + self.rescue_margin if has_booster else 0.0
            for j in range(<int>cands.size()):
                cand_set[cands[j].c] = 1
            # Pass 1: blank and repeat
            t_node.clear()
            t_pb.clear()
            t_total.clear()
            t_last.clear()
            stay.clear()
            reach.clear()
            stay_u.clear()
            reach_u.clear()
            for i in range(<int>self.prev_node.size()):
                node = self.prev_node[i]
                pb = self.prev_pb[i]
                pnb = self.prev_pnb[i]
                total = _lse(pb, pnb)
                last = self.token[node]
                self._beam_add(node, total + blank_lp,
                               pnb + rowl[last] if last >= 0 else NEG_INF)
                t_node.push_back(node)
                t_pb.push_back(pb)
                t_total.push_back(total)
                t_last.push_back(last)
                k = self.cur_node.size() - 1
                s = _lse(self.cur_pb[k], self.cur_pnb[k]) + self.text[node]
                r = total + self.text[node]
                pending = 0.0
                if has_booster:  # (no conditional expression of a vector element: see _start_id)
                    pending = self.pend[node]
                # (see _Decoder._stalls)
                if self._stalls(node, t):
                    stay.push_back(s - pending)
                else:
                    stay.push_back(s)
                reach.push_back(r)
                if slots_on:
                    stay_u.push_back(s - pending)
                    reach_u.push_back(r - pending)
            n_t = t_node.size()
            low = NEG_INF
            low_u = NEG_INF
            if early:
                # (stay, stay_u, reach and reach_u may be reordered: not needed after)
                best_s = heap_of_largest(heap_s, stay, beam_size)
                low = _heap_floor(heap_s, beam_size, best_s, thr)
                if slots_on:
                    best_u = heap_of_largest(heap_u, stay_u, u_rank)
                    low_u = _heap_floor(heap_u, u_rank, best_u, thr)
            # Pass 2: paths between hypotheses of the beam
            for i in range(n_t):
                node = t_node[i]
                p = self.parent[node]
                if p < 0 or self.pos_prev[p] < 0:
                    continue
                c = self.token[node]
                if not cand_set[c]:
                    state = self.trie[p] if has_booster else 0
                    if not state or rowl[c] < rescue_floor:
                        continue
                    row = self._row(state)
                    if not (self._rescuable(state, row) and self._goto(row, c) >= 0):
                        continue
                j = self.pos_prev[p]
                pb = self.prev_pb[j]
                pnb = self.prev_pnb[j]
                ext = (pb if c == self.token[p] else _lse(pb, pnb)) + rowl[c]
                k = self.pos_cur[node]
                self.cur_pnb[k] = _lse(self.cur_pnb[k], ext)
            lo = low
            lo_u = low_u
            if early and n_t >= beam_size:
                guess = kth_largest(reach, beam_size) + top_lp
                if guess > lo:
                    lo = guess
                if slots_on:
                    guess = kth_largest(reach_u, min(u_rank, <int>reach_u.size())) + top_lp
                    if guess > lo_u:
                        lo_u = guess
            while True:
                todo.clear()
                for i in range(n_t):
                    node = t_node[i]
                    pb = t_pb[i]
                    total = t_total[i]
                    last = t_last[i]
                    inf_v = self._parent_info(node)[0]  # (a copy: child() may move the table)
                    inf = &inf_v
                    head = inf.head
                    word_gain = inf.word_gain
                    state = inf.state
                    row = inf.row
                    nconts = inf.nconts
                    base_s = total + head
                    cut = lo - base_s - inf.most
                    cut_c = cut
                    if nconts:
                        need = lo - base_s - (word_gain if word_gain > 0 else 0.0) - start_gain
                        cut_c = need - cap
                        if scale < 1:
                            bound = (need - scale * top_lp) / (1 - scale)
                            if bound > cut_c:
                                cut_c = bound
                    if slots_on:
                        cut_u = lo_u - base_s - inf.most_u
                        if cut_u < cut:
                            cut = cut_u
                        if cut_u < cut_c:
                            cut_c = cut_u
                    first_cut = cut if cut < cut_c else cut_c
                    # the built children, with their exact scores (see the reference)
                    s = total + top_lp
                    if s + self.kid_max[node] >= lo or (
                            slots_on and s + self.kid_max_u[node] >= lo_u):
                        self._built_kids(node, pb, total, last, state, row, nconts, lo, lo_u,
                                         &rowl, &cand_set, rescue_floor, slots_on, todo)
                    # the frame's candidates, then the rescued continuations (if any)
                    rescued = NULL
                    if nconts:
                        if nconts <= few_conts:
                            # few: the other tokens down to ``cut``, then the continuations
                            # looked up one by one (the reference's list ``toks``)
                            for j in range(<int>cands.size()):
                                if cands[j].lp < cut:
                                    break
                                if self._goto(row, cands[j].c) < 0:
                                    self._consider(node, cands[j].c, cands[j].lp, False, pb,
                                                   total, last, &inf_v, lo, lo_u, top_lp,
                                                   slots_on, has_booster, todo)
                            rescuable = self._rescuable(state, row)
                            key_row = self.tab.row_start[row]
                            for j in range(nconts):
                                c = self.tab.row_toks[key_row + j]
                                lpc = rowl[c]
                                if lpc >= cut_c and (cand_set[c] or (
                                        rescuable and lpc >= rescue_floor)):
                                    self._consider(node, c, lpc, True, pb, total, last, &inf_v,
                                                   lo, lo_u, top_lp, slots_on, has_booster,
                                                   todo)
                            continue
                        else:
                            # the row's rescued tokens, once per frame (see _Decoder._rescued)
                            if row >= <int>self.resc_at.size():
                                self.resc_at.resize(row + 1, -1)
                                self.resc.resize(row + 1)
                            if self.resc_at[row] != t:
                                self.resc_at[row] = t
                                self.resc[row].clear()
                                if self._rescuable(state, row):
                                    key_row = self.tab.row_start[row]
                                    for j in range(nconts):
                                        c = self.tab.row_toks[key_row + j]
                                        if not cand_set[c] and rowl[c] >= rescue_floor:
                                            cd.c = c
                                            cd.lp = rowl[c]
                                            self.resc[row].push_back(cd)
                                    cand_sort_desc(self.resc[row])
                            if self.resc[row].size():
                                rescued = &self.resc[row]
                    self._collect(&cands, rescued, node, pb, total, last, &inf_v, first_cut,
                                  cut, cut_c, lo, lo_u, top_lp, slots_on, has_booster, todo)
                # Built best bound first (the reference sorts; a heap gives the same order
                # and stops at the first bound below both floors: score_u <= score, and the
                # floors only rise, so none after it can pass).
                if early:
                    todo_make_heap(todo)
                n_todo = todo.size()
                for j in range(n_todo):
                    if early:
                        todo_pop_heap(todo, n_todo - j)
                        td = todo[n_todo - 1 - j]
                        if td.score < low and (not slots_on or td.score < low_u):
                            break
                    else:
                        td = todo[j]
                    if td.score < low and (not slots_on or td.score_u < low_u):
                        continue
                    new = td.new
                    if new < 0:
                        new = self.child(td.node, td.c, t, td.lpc, top_lp, td.ext - td.lpc)
                    self._beam_add(new, NEG_INF, td.ext)
                    if not early:
                        continue
                    score = td.ext + self.text[new]
                    if self.flags[new] & UNVERIFIED:
                        score -= self._at_stake(new)
                    if slots_on:
                        score_u = score - self.pend[new]
                        _heap_add(heap_u, u_rank, score_u)
                        if score_u > best_u:
                            best_u = score_u
                        low_u = _heap_floor(heap_u, u_rank, best_u, thr)
                    # (see the reference: a child built before may be a stalled match)
                    if self._stalls(new, t):
                        score -= self.pend[new]
                    _heap_add(heap_s, beam_size, score)
                    if score > best_s:
                        best_s = score
                    low = _heap_floor(heap_s, beam_size, best_s, thr)
                if low >= lo and (not slots_on or low_u >= lo_u):
                    break
                lo = low
                lo_u = low_u
            for j in range(<int>cands.size()):
                cand_set[cands[j].c] = 0
            self._prune(t)
            for node in range(first_new, <int>self.parent.size()):
                if self.pos_prev[node] < 0:
                    self._forget(node)
        return [(self.prev_node[i], self.prev_pb[i], self.prev_pnb[i])
                for i in range(<int>self.prev_node.size())]

    cdef int _collect(self, vector[Cand]* first, vector[Cand]* second, int node,
                      double pb, double total, int last, Info* inf, double first_cut,
                      double cut, double cut_c, double lo, double lo_u, double top_lp,
                      bint slots_on, bint has_booster, vector[Todo]& todo) except -1:
        """The extensions of one parent worth building (``todo``), as the reference's inner
        loops over ``lists``: ``first``, then ``second`` unless it is NULL."""
        cdef vector[Cand]* tokens
        cdef int li, j, c, n_lists = 1 if second == NULL else 2
        cdef double lpc
        cdef bint in_conts
        for li in range(n_lists):
            tokens = first if li == 0 else second
            for j in range(<int>tokens[0].size()):
                c = tokens[0][j].c
                lpc = tokens[0][j].lp
                if lpc < first_cut:
                    break
                in_conts = inf.nconts > 0 and self._goto(inf.row, c) >= 0
                if lpc < (cut_c if in_conts else cut):
                    continue
                self._consider(node, c, lpc, in_conts, pb, total, last, inf, lo, lo_u, top_lp,
                               slots_on, has_booster, todo)
        return 0

    cdef inline int _consider(self, int node, int c, double lpc, bint in_conts, double pb,
                              double total, int last, Info* inf, double lo, double lo_u,
                              double top_lp, bint slots_on, bint has_booster,
                              vector[Todo]& todo) except -1:
        """Extension ``c`` (log-prob ``lpc``) of parent ``node``: to ``todo`` if its exact
        score (built) or an upper bound of it (not yet) reaches the floors."""
        cdef int new
        cdef long long key0 = <long long>node * self.size
        cdef double ext, score, score_u, gain, gain_u, gapv, extra_gain, leave
        cdef unordered_map[long long, int].iterator found
        if (self.child_bits[node] >> (c & 63)) & 1:
            found = self.children.find(key0 + c)
        else:
            found = self.children.end()
        if found != self.children.end():
            return 0  # built: _built_kids took it
        ext = (pb if c == last else total) + lpc
        # not built yet: an upper bound of its score
        if self.breaks[c]:
            gain = inf.word_gain + self.start_oov[c]
        else:
            gain = 0.0
            if inf.open_word and self.ptab.grow(self.pid[node], c) < 0:
                gain = self._oov_len(self.wlen[node] + self.plen[c])
        gain_u = gain - inf.pending
        if inf.state:
            if in_conts:
                gain += self.base
                gapv = top_lp - lpc
                if gapv > 0:
                    extra_gain = self.scale * gapv
                    gain += extra_gain if extra_gain < self.cap else self.cap
            elif inf.settles:  # (see _parent_info)
                leave = self.settle_gain if self.settle_gain > -inf.pending else -inf.pending
                gain += leave + self.base
                gain_u += leave + inf.pending
            else:
                gain += self.base - inf.pending
        elif has_booster and self._goto(self.root_row, c) >= 0:
            gain += self.base
        score = ext + inf.head + gain
        score_u = ext + inf.head + gain_u
        if score >= lo or (slots_on and score_u >= lo_u):
            self._todo_add(todo, score, score_u, node, c, lpc, ext, -1)
        return 0

    cdef int _built_kids(self, int node, double pb, double total, int last, int state, int row,
                         int nconts, double lo, double lo_u, vector[double]* rowl,
                         vector[int]* cand_set, double rescue_floor, bint slots_on,
                         vector[Todo]& todo) except -1:
        """The built children of ``node`` that are candidates at this frame (the frame's
        tokens, rescued continuations), to ``todo`` if their exact score reaches the floors
        (``_consider`` takes the tokens not built yet)."""
        cdef int new = self.first_kid[node], c
        cdef double lpc, ext, score, score_u
        cdef bint rescuable = nconts > 0 and self._rescuable(state, row)
        while new >= 0:
            if self.pos_cur[new] < 0 and not self.flags[new] & FORGOTTEN:
                c = self.token[new]
                lpc = rowl[0][c]
                if cand_set[0][c] or (rescuable and lpc >= rescue_floor
                                      and self._goto(row, c) >= 0):
                    ext = (pb if c == last else total) + lpc
                    score = ext + self.text[new]
                    score_u = score - self.pend[new] if slots_on else score
                    if score >= lo or (slots_on and score_u >= lo_u):
                        self._todo_add(todo, score, score_u, node, c, lpc, ext, new)
            new = self.next_kid[new]
        return 0

    cdef inline void _todo_add(self, vector[Todo]& todo, double score, double score_u, int node,
                               int c, double lpc, double ext, int new) noexcept:
        cdef Todo td
        td.score = score
        td.score_u = score_u
        td.node = node
        td.c = c
        td.lpc = lpc
        td.ext = ext
        td.new = new
        todo.push_back(td)

    cdef double _at_stake(self, int node) except? -1e300:
        cdef double stake = 0.0
        cdef int event = self.ev_of[node]
        if event >= 0 and self.events[event].kept > 0.0:
            stake += self.events[event].kept
        if self.boosted_lm is not None:  # (word_check is filled only then)
            word = self.word_check.get(node)
            if word is not None:
                stake += word[2]
        return stake

    cdef int _prune(self, int frame) except -1:
        """As ``_Decoder._prune``: the beam being built, cut to the survivors, becomes the
        previous frame's (in the reference's order: the scored, then the slots)."""
        cdef int n = self.cur_node.size()
        # (scratch vectors kept between frames: no allocation per frame)
        cdef vector[double]* acoustic = &self.s_acoustic
        cdef vector[Scored]* everyone = &self.s_everyone
        cdef vector[Scored]* scored = &self.s_scored
        cdef vector[Scored]* extra = &self.s_extra
        cdef vector[int]* todo = &self.s_todo
        cdef vector[int]* keep = &self.s_keep
        cdef Scored sc
        cdef int i, k, node, limit, beam_size = self.beam_size
        cdef double pb, pnb, floor, thr = self.thr, floor_u
        acoustic.resize(n)
        everyone.clear()
        for i in range(n):
            pb = self.cur_pb[i]
            pnb = self.cur_pnb[i]
            if pb < pnb:
                pb, pnb = pnb, pb
            acoustic[0][i] = pb if pnb == NEG_INF else pb + log1p(exp(pnb - pb))
            sc.score = acoustic[0][i] + self.text[self.cur_node[i]]
            sc.node = self.cur_node[i]
            everyone.push_back(sc)
        while True:
            scored_sort_desc(everyone[0])
            floor = everyone[0][0].score + thr
            k = 0
            limit = beam_size if beam_size < <int>everyone.size() else <int>everyone.size()
            while k < limit and everyone[0][k].score >= floor:
                k += 1
            scored.assign(everyone.begin(), everyone.begin() + k)
            extra.clear()
            if self.unbiased_beam and k < <int>everyone.size():
                self._displaced(scored[0], everyone[0], k, extra[0])
            if self.n_unverified == 0 and (not self.check_partial or self.n_in_match == 0):
                break
            todo.clear()
            for i in range(<int>scored.size() + <int>extra.size()):
                node = scored[0][i].node if i < <int>scored.size() else extra[0][i - scored.size()].node
                if (self.flags[node] & UNVERIFIED or (
                        self.check_partial and self.flags[node] & IN_MATCH)) \
                        and self.checked_at[node] != frame:
                    todo.push_back(node)
            if todo.empty():
                break
            for i in range(<int>todo.size()):
                self.checked_at[todo[0][i]] = frame
            if not self._check_survivors(todo[0], frame, acoustic[0]):
                break
            for i in range(<int>everyone.size()):
                node = everyone[0][i].node
                if self.flags[node] & REJECTED:
                    everyone[0][i].score = acoustic[0][self.pos_cur[node]] + self.text[node]
        # the survivors become the previous frame's beam
        keep.clear()
        for i in range(<int>scored.size()):
            keep.push_back(scored[0][i].node)
        if extra.size():
            floor_u = NEG_INF
            for i in range(<int>scored.size()):
                pb = scored[0][i].score - self.pend[scored[0][i].node]
                if pb > floor_u:
                    floor_u = pb
            if extra[0][0].score > floor_u:
                floor_u = extra[0][0].score
            floor_u += thr
            for i in range(<int>extra.size()):
                if extra[0][i].score >= floor_u:
                    keep.push_back(extra[0][i].node)
        cdef vector[int]* old_node = &self.s_old_node
        cdef vector[double]* old_pb = &self.s_old_pb
        cdef vector[double]* old_pnb = &self.s_old_pnb
        old_node.clear()
        old_pb.clear()
        old_pnb.clear()
        old_node.swap(self.cur_node)
        old_pb.swap(self.cur_pb)
        old_pnb.swap(self.cur_pnb)
        for i in range(<int>keep.size()):
            k = self.pos_cur[keep[0][i]]
            self.cur_node.push_back(keep[0][i])
            self.cur_pb.push_back(old_pb[0][k])
            self.cur_pnb.push_back(old_pnb[0][k])
        for i in range(<int>old_node.size()):
            self.pos_cur[old_node[0][i]] = -1
        for i in range(<int>self.cur_node.size()):
            self.pos_cur[self.cur_node[i]] = i
        self._next_frame()
        return 0

    cdef void _displaced(self, vector[Scored]& scored, vector[Scored]& everyone, int start,
                         vector[Scored]& found):
        cdef int rank = self.u_rank
        cdef vector[double]* unbiased = &self.s_unbiased
        cdef vector[double]* allu = &self.s_allu
        unbiased.clear()
        cdef int i, node
        cdef double s, u, low, cut
        cdef Scored sc
        for i in range(<int>scored.size()):
            unbiased.push_back(scored[i].score - self.pend[scored[i].node])
        low = NEG_INF
        if <int>unbiased.size() >= rank:
            low = kth_largest(unbiased[0], rank)
        found.clear()
        for i in range(start, <int>everyone.size()):
            s = everyone[i].score
            node = everyone[i].node
            if s <= low:
                break
            u = s - self.pend[node]
            if u > low:
                sc.score = u
                sc.node = node
                found.push_back(sc)
        if found.empty():
            return
        scored_sort_desc(found)
        if <int>(unbiased.size() + found.size()) > rank:
            allu[0] = unbiased[0]
            for i in range(<int>found.size()):
                allu.push_back(found[i].score)
            cut = kth_largest(allu[0], rank)
            i = 0
            while i < <int>found.size() and found[i].score >= cut:
                i += 1
            found.resize(i)
        if <int>found.size() > self.unbiased_beam:
            found.resize(self.unbiased_beam)

    cdef int _check_survivors(self, vector[int]& nodes, int frame,
                              vector[double]& acoustic) except -1:
        """As ``_Decoder._check_survivors``; the rejected nodes go to ``self.rejected``
        (their number is returned)."""
        cdef int i, node, event
        cdef Event* ev
        cdef double kept, gap
        for i in range(<int>self.rejected.size()):
            self.flags[self.rejected[i]] &= ~REJECTED
        self.rejected.clear()
        for i in range(<int>nodes.size()):
            node = nodes[i]
            if self._stalls(node, frame):
                if not self._check_partial(node, frame, acoustic[self.pos_cur[node]]):
                    self._reject(node)
            if not self.flags[node] & UNVERIFIED:
                continue
            self._unflag(node, UNVERIFIED)
            event = self.ev_of[node]
            if event >= 0:
                ev = &self.events[event]
                if not self._verify(ev.first, ev.last, ev.next, &ev.gap):
                    ev.accepted = False
                    kept = ev.kept
                    ev.kept = 0.0
                    self.settled[node] -= kept
                    self.text[node] -= kept
                    self._reject(node)
            if self.boosted_lm is None:  # (word_check is filled only then)
                continue
            word = self.word_check.get(node)
            if word is not None and not self._verify(word[0], word[1], node, &gap):
                self.settled[node] -= word[2]
                self.text[node] -= word[2]
                self._reject(node)
        return self.rejected.size()

    cdef bint _check_partial(self, int node, int frame, double acoustic) except -1:
        cdef int first = self.mfirst[node]
        cdef int start = self.frame[first]
        cdef double best = self.gaps.best_cum[frame + 1] - self.gaps.best_cum[start]
        if best - (acoustic - self.before[first]) <= self.margin * self.mlen[node]:
            return True
        cdef double pending = self.pend[node]
        self.text[node] -= pending
        self.pend[node] = 0.0
        self.trie[node] = 0
        self.comp_ent[node] = -1
        self.mfirst[node] = 0
        self._unflag(node, IN_MATCH)
        self.info_valid[node] = 0
        return False

    # ------------------------------------------------------------------ results
    def view(self, nodes):
        """What the result builder reads of the paths to ``nodes``: their parent, token
        frame and confirmed match (dicts by node)."""
        parent, token, frame, event = {}, {}, {}, {}
        cdef int node
        for start in nodes:
            node = start
            while node > 0 and node not in parent:
                parent[node] = self.parent[node]
                token[node] = self.token[node]
                frame[node] = self.frame[node]
                event[node] = self._confirmed(self.ev_of[node])
                node = self.parent[node]
        return parent, token, frame, event



# (PrefilterTable.plausible) a state is dropped only when its cost is this much over the
# most it may cost: well above the rounding of a sum of a few dozen costs
cdef double PRUNE_SLACK = 1e-6
# ... and its bounds are made again this many times per utterance, from the frames left
# (a pass over the whole trie each: 2 was faster than 1, 4, 6 or 12 with 10,000 entities)
cdef int ROOM_UPDATES = 2


cdef class PrefilterTable:
    """The catalog trie as flat arrays for ``prefilter.plausible_entities``: per state its
    children (token, state; children come after their parent in the trie's numbering), its
    token, its depth and whether entities end on it. Made once per compiled catalog;
    ``plausible`` allocates its own work arrays, so decodes in several threads may share
    the table."""

    cdef vector[int] kid_start, kid_tok, kid_node, tok, depth, ends
    cdef object output
    cdef int n

    def __init__(self, goto, depth, output):
        cdef int s, end
        self.n = len(goto)
        self.output = output
        self.tok.assign(self.n, -1)
        for s in range(self.n):
            self.kid_start.push_back(self.kid_tok.size())
            for tok, nxt in goto[s].items():
                self.kid_tok.push_back(tok)
                self.kid_node.push_back(nxt)
                self.tok[nxt] = tok
            self.depth.push_back(depth[s])
            # (a plain branch: a conditional expression as push_back's argument compiles
            # into a reference temporary, see _start_id; into a vector[char] it pushed 0)
            end = 0
            if output[s]:
                end = 1
            self.ends.push_back(end)
        self.kid_start.push_back(self.kid_tok.size())

    def plausible(self, const float[:, :] lp, int blank, double margin, double tol):
        """As ``prefilter.plausible_entities_python``, over the trie: per frame, the states
        whose cheapest alignment so far could still end within margin x tokens of some
        entity below them, each later token of the entity costing at least its cheapest
        frame among those left (see _room; the other states are dropped: costs only
        grow, so the entities kept are the reference's)."""
        cdef int frames = lp.shape[0], size = lp.shape[1]
        cdef int t, c, i, j, k, s, node, ch, ptok
        cdef double top, ct, cb, v, e, db
        cdef double* cost
        cdef vector[double] room
        # per frame t, each token's cost (the frame's best log-prob less the token's), and
        # its cheapest cost over the frames after t
        cdef vector[double] costs, later
        costs.resize(frames * size)
        later.assign((frames + 1) * size, INFINITY)
        for t in range(frames - 1, -1, -1):
            top = lp[t, 0]
            for c in range(1, size):
                if lp[t, c] > top:
                    top = lp[t, c]
            for c in range(size):
                v = <double>top - <double>lp[t, c]
                costs[t * size + c] = v
                e = later[(t + 1) * size + c]
                later[t * size + c] = v if v < e else e
        room.resize(self.n)
        cdef int step = frames // ROOM_UPDATES + 1
        # the states alive after the frame before (cur) and after this one (nxt), and
        # each state's place in nxt (-1: none)
        cdef vector[int] cur_node, nxt_node, pos, hits
        cdef vector[double] cur_t, cur_b, nxt_t, nxt_b
        cdef vector[char] hit
        pos.assign(self.n, -1)
        hit.assign(self.n, 0)
        for t in range(frames):
            if t % step == 0:
                self._room(room, &later[(t + 1) * size], margin)
            cost = &costs[t * size]
            db = cost[blank]
            nxt_node.clear()
            nxt_t.clear()
            nxt_b.clear()
            # a match starting here
            for k in range(self.kid_start[0], self.kid_start[1]):
                ch = self.kid_node[k]
                v = 0.0 + cost[self.kid_tok[k]]
                if v <= room[ch]:
                    self._offer(ch, v, nxt_t, pos, nxt_node, nxt_t, nxt_b)
            for i in range(<int>cur_node.size()):
                node = cur_node[i]
                ct = cur_t[i]
                cb = cur_b[i]
                ptok = self.tok[node]
                # staying on the token (a repeat) or in the blanks after it
                e = room[node]
                v = ct + cost[ptok]
                if v <= e:
                    self._offer(node, v, nxt_t, pos, nxt_node, nxt_t, nxt_b)
                v = (ct if ct < cb else cb) + db
                if v <= e:
                    self._offer(node, v, nxt_b, pos, nxt_node, nxt_t, nxt_b)
                # the next token of the match (each offer keeps the lowest cost, so the
                # order of the offers does not matter)
                for k in range(self.kid_start[node], self.kid_start[node + 1]):
                    c = self.kid_tok[k]
                    e = cb
                    if c != ptok and ct < e:
                        e = ct
                    v = e + cost[c]
                    ch = self.kid_node[k]
                    if v <= room[ch]:
                        self._offer(ch, v, nxt_t, pos, nxt_node, nxt_t, nxt_b)
            for j in range(<int>nxt_node.size()):
                node = nxt_node[j]
                pos[node] = -1
                if (self.ends[node] and not hit[node]
                        and nxt_t[j] <= margin * self.depth[node] + tol):
                    hit[node] = 1
                    hits.push_back(node)
            cur_node.swap(nxt_node)
            cur_t.swap(nxt_t)
            cur_b.swap(nxt_b)
        found = set()
        for node in hits:
            found.update(self.output[node])
        return sorted(found)

    cdef void _room(self, vector[double]& room, double* cheapest, double margin) noexcept:
        """room[s]: the most an alignment up to state s, at a frame t, may cost and still
        end an entity below s within the margin: margin x its tokens, less its later
        tokens' ``cheapest`` costs (over the frames after t, or after an earlier frame),
        plus PRUNE_SLACK, so that rounding never drops a state that passes."""
        cdef int s, k
        cdef double v
        for s in range(self.n - 1, -1, -1):
            room[s] = NEG_INF  # (no conditional expression of a vector element: see _start_id)
            if self.ends[s]:
                room[s] = margin * self.depth[s]
            for k in range(self.kid_start[s], self.kid_start[s + 1]):
                v = room[self.kid_node[k]] - cheapest[self.kid_tok[k]]
                if v > room[s]:
                    room[s] = v
        for s in range(self.n):
            room[s] += PRUNE_SLACK

    cdef inline void _offer(self, int node, double v, vector[double]& side, vector[int]& pos,
                            vector[int]& nodes, vector[double]& t, vector[double]& b) noexcept:
        """Lower ``node``'s cost on ``side`` (``t`` or ``b``) of the next frame's states to
        ``v``, adding the state (both costs infinite) if it is not there yet."""
        cdef int j = pos[node]
        if j < 0:
            j = nodes.size()
            pos[node] = j
            nodes.push_back(node)
            t.push_back(INFINITY)
            b.push_back(INFINITY)
        if v < side[j]:
            side[j] = v
