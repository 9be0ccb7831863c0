"""`make gpu-check`: what this project can only learn on a GPU, in one run of under 10 minutes.

1. Throughput in spectra/s on the device: the batched features (Mel + MFCC + LFCC, and the
   224-px plotted-spectrum image) and `classify`'s model step (`batch.engine.predict_proba`,
   the call `classify` makes per batch) for `cnn1d_compact` and for `mm_all` at 224 px
   (EPSANet-50, the authors' 512-px canvas).
2. Table 4, `paper` profile, seed 0, every row, on the pack given (the largest we have), for
   `--table4-epochs` epochs: the per-epoch time of each row says what 500 epochs cost.
3. The LCGAN study, `paper` profile, seed 0, without the per-checkpoint sweep.

Each part runs in its own output folder and is timed; a part that raises is recorded and the
next one runs. `summary.json` and `summary.md` in `--out` hold everything.

    python -m benchmarks.gpu_check --pack out/real/lamost.h5 --data-root ../shared/data
    python -m benchmarks.gpu_check --dry-run --pack tiny.h5     # CPU, seconds: checks the wiring
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path

L = 3700
PARTS = ("throughput", "table4", "lcgan")

# --dry-run shrinks every part to CPU seconds; the real run keeps the paper's sizes.
SIZES = {
    "real": {"n": 8192, "batch": 512, "image": 224, "canvas": 512, "epsanet": [3, 4, 6, 3],
             "table4_profile": "paper", "lcgan_profile": "paper"},
    "dry": {"n": 8, "batch": 4, "image": 32, "canvas": None, "epsanet": [1, 1, 1, 1],
            "table4_profile": "quick", "lcgan_profile": "quick", "table4_rows": ["mm_1d"]},
}


def _rate(fn, flux, batch: int, device) -> float:
    """Spectra/s of fn over `flux` in batches, after one warm-up batch (CUDA synchronised)."""
    import torch

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    fn(flux[:batch])
    sync()
    t0 = time.perf_counter()
    for i in range(0, len(flux), batch):
        fn(flux[i : i + batch])
    sync()
    return len(flux) / (time.perf_counter() - t0)


def throughput(device, size: dict) -> dict:
    """Spectra/s of the features and of classify's model step (bf16 autocast on CUDA)."""
    import torch

    from spectype.batch.engine import predict_proba
    from spectype.features.audio import AudioFeatures
    from spectype.features.image import SpectrumImage
    from spectype.models import create_model

    g = torch.Generator().manual_seed(0)
    flux = torch.rand(size["n"], L, generator=g).to(device)
    audio = AudioFeatures().to(device)
    image = SpectrumImage(out_size=size["image"], canvas=size["canvas"]).to(device)
    out = {}
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
        out["features_audio_mel_mfcc_lfcc"] = _rate(audio, flux, size["batch"], device)
        out[f"features_image_{size['image']}px"] = _rate(image, flux, size["batch"], device)
        models = {
            "cnn1d_compact": create_model("cnn1d_compact", n_classes=8, input_len=L),
            f"mm_all_{size['image']}px": create_model(
                "mm_all", n_classes=8, input_len=L, image_size=size["image"],
                image_canvas=size["canvas"], epsanet_layers=size["epsanet"],
            ),
        }
        host = flux.float().cpu().numpy()
        for name, model in models.items():
            model = model.to(device).eval()
            out[f"classify_{name}"] = _rate(
                lambda x, m=model: predict_proba(m, x, size["batch"], str(device)), host, size["batch"], device
            )
    return {k: round(float(v), 1) for k, v in out.items()}


def table4_seed(pack: Path, out: Path, device: str, epochs: int, profile: str, rows=None) -> dict:
    """One seed of table4's rows (default all); seconds per epoch per row, 500-epoch estimate."""
    from spectype.experiments.runner import reproduce

    res = reproduce("table4", pack, seeds=[0], profile=profile, out=out, rows=rows, epochs=epochs,
                    device=device, command="benchmarks.gpu_check")
    rows = {}
    for r in res.runs.itertuples(index=False):
        per_epoch = float(r.train_seconds) / max(int(r.epochs_run), 1)
        rows[r.row] = {"test_acc": float(r.test_acc), "epochs": int(r.epochs_run),
                       "s_per_epoch": round(per_epoch, 2), "est_500_epochs_h": round(per_epoch * 500 / 3600, 2)}
    return {"rows": rows, "failures": res.failures}


def lcgan_seed(out: Path, device: str, profile: str, data_root, inputs: dict | None) -> dict:
    """The LCGAN study for seed 0 (no Fig. 7 sweep); `inputs` replaces the library stars."""
    from spectype.experiments.lcgan import run_lcgan_protocol

    overrides = {"sweep_seeds": 0}
    if inputs and "overrides" in inputs:
        overrides = {**inputs["overrides"], **overrides}
    extra = {k: v for k, v in (inputs or {}).items() if k != "overrides"}
    res = run_lcgan_protocol(out, profile, seeds=1, data_root=data_root, device=device,
                             progress=False, overrides=overrides, command="benchmarks.gpu_check", **extra)
    runs = res["runs"]
    table = runs[runs["run"] == runs["row"]][["row", "seed", "test_acc", "O_recall"]]
    return {"table": table.to_dict(orient="records"), "failures": res["failures"]}


def run_checks(out: Path, pack: Path | None, data_root=None, device: str = "auto", dry_run: bool = False,
               table4_epochs: int = 2, lcgan_inputs: dict | None = None,
               only: tuple[str, ...] = PARTS) -> dict:
    """Run the three parts into `out`; returns (and writes) the summary."""
    from spectype.runtime import jsonable, resolve_device

    dev = resolve_device("cpu" if dry_run else device)
    size = SIZES["dry" if dry_run else "real"]
    out.mkdir(parents=True, exist_ok=True)
    parts = {
        "throughput": lambda: throughput(dev, size),
        "table4": lambda: table4_seed(pack, out / "table4", str(dev), table4_epochs,
                                      size["table4_profile"], size.get("table4_rows")),
        "lcgan": lambda: lcgan_seed(out / "lcgan", str(dev), size["lcgan_profile"], data_root, lcgan_inputs),
    }
    summary = {"device": str(dev), "dry_run": dry_run, "parts": {}}
    if dev.type == "cuda":
        import torch

        summary["gpu"] = torch.cuda.get_device_name(dev)
    for name, fn in parts.items():
        if name not in only:
            continue
        if name == "table4" and pack is None:
            summary["parts"][name] = {"skipped": "no --pack given"}
            continue
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:  # record and go on: the other parts still say something
            result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        summary["parts"][name] = {**result, "seconds": round(time.perf_counter() - t0, 1)}
        (out / "summary.json").write_text(json.dumps(jsonable(summary), indent=1))
    (out / "summary.md").write_text(_markdown(summary))
    return summary


def _markdown(summary: dict) -> str:
    lines = [f"# gpu-check on {summary.get('gpu', summary['device'])}"
             + (" (dry run: tiny sizes, CPU)" if summary["dry_run"] else ""), ""]
    for name, part in summary["parts"].items():
        lines += [f"## {name} ({part.get('seconds', 0)} s)", ""]
        body = {k: v for k, v in part.items() if k not in ("seconds", "traceback")}
        lines += ["```json", json.dumps(body, indent=1, default=str), "```", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("out/gpu_check"))
    ap.add_argument("--pack", type=Path, default=None, help="pack for table4 (the largest you have)")
    ap.add_argument("--data-root", default=None, help="shared data (libraries/, lamost/) for lcgan")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--table4-epochs", type=int, default=2)
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset of " + ",".join(PARTS))
    ap.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes: checks the wiring")
    args = ap.parse_args(argv)
    only = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    s = run_checks(args.out, args.pack, args.data_root, args.device, args.dry_run, args.table4_epochs,
                   only=only)
    print((args.out / "summary.md").read_text())
    return 1 if any("error" in p for p in s["parts"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "run_checks", "throughput"]
