"""Build step for the one compiled module, ``ctcbias.decode._search`` (the beam search's
C++ core, written in Cython); all other metadata is in pyproject.toml.

The extension is optional: if it cannot be built (no C++ compiler), the install goes on
and ``ctcbias.decode.beam`` runs the same search in Python, which gives the same results,
4 to 10 times slower (docs/RESULTS.md, "Speed against catalog size").
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "ctcbias.decode._search",
                ["src/ctcbias/decode/_search.pyx"],
                language="c++",
                extra_compile_args=["-O2"],
                optional=True,
            )
        ],
        compiler_directives={"language_level": 3},
    )
)
