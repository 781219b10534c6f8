"""The one error the FHiCL layer raises: it names the file, line and column it is about."""


class FhiclError(Exception):
    """Invalid FHiCL (or an unstorable document), located as `file:line:column: message`."""

    def __init__(self, file: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{file}:{line}:{column}: {message}")
        self.file = file
        self.line = line
        self.column = column
        self.message = message

    def __reduce__(self) -> tuple[type["FhiclError"], tuple[str, int, int, str]]:
        """Keep the four fields when the error crosses a process boundary (pickling)."""
        return (type(self), (self.file, self.line, self.column, self.message))
