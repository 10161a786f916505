"""`torchrun --nproc_per_node N -m musicvae_app.training --data DIR --out PACK`: same as `musicvae train`."""

from ..cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *__import__("sys").argv[1:]]))
