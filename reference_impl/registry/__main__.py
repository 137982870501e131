"""`python -m reference_impl.registry serve --root DIR ...`"""
import sys

from .serve import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
