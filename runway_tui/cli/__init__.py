"""The headless command line: argparse front end over the engine. Never imports Textual."""
