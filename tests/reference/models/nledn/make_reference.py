"""Makes tests/reference/models/nledn/ from the official code: see ../zoo_c/make_reference.py."""
import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv[1:1] = ["--method", "nledn"]
    runpy.run_path(str(Path(__file__).parents[1] / "zoo_c" / "make_reference.py"), run_name="__main__")
