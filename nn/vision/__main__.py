"""`python -m nn.vision train | evaluate | predict | sweep | export` (see nn.vision.cli)."""

from nn.vision.cli import main

if __name__ == "__main__":
    main()
