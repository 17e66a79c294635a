"""Page scripts: one thin file per page, so that AppTest can switch to each page by path."""
