"""`ctcbias export`: ship a trained model in other formats."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("export", help="export a model (ONNX)")
    sub = parser.add_subparsers(dest="export_command", metavar="FORMAT")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    o = sub.add_parser("onnx", help="encoder + CTC heads to ONNX (dynamic time axis, opset 17)")
    o.add_argument("--model", required=True, metavar="CKPT")
    o.add_argument("--out", required=True, metavar="ONNX")
    o.add_argument("--opset", type=int, default=17)
    o.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime parity check")
    o.set_defaults(func=run_onnx)


def run_onnx(args: argparse.Namespace) -> int:
    from ctcbias.model.checkpoint import load_model
    from ctcbias.model.onnx_export import export_onnx, onnx_max_diff

    model, _, _ = load_model(args.model)
    path = export_onnx(model, args.out, opset=args.opset)
    print(f"wrote {path}")
    if not args.no_check:
        try:
            diff = onnx_max_diff(model, path)
        except ImportError:
            print("onnxruntime not installed: parity not checked (pip install onnxruntime)")
            return 0
        print(f"ONNX Runtime vs PyTorch max abs diff {diff:.2e}")
        if diff > 1e-3:
            print("warning: difference above 1e-3")
            return 1
    return 0
