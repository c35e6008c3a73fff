"""`python -m nn.vision train | evaluate | predict | sweep` (see nn.vision.train)."""

from nn.vision.train import main

if __name__ == "__main__":
    main()
