"""The local sandbox: the synthesized app, run on an in-process AWS emulator."""
