//! The tool's error: one line that says why, printed to stderr by `main`.

use std::fmt;

/// Why a command failed, as one line of text.
#[derive(Debug)]
pub struct Failure(String, bool);

/// Result of a command.
pub type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// A failure with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into(), false)
    }

    /// A failure writing to stdout; a closed pipe (`iot-tool demo | head`) ends the run quietly.
    pub fn stdout(e: &std::io::Error) -> Self {
        Self(
            format!("writing stdout: {e}"),
            e.kind() == std::io::ErrorKind::BrokenPipe,
        )
    }

    /// `true` when nothing should be said about it (the reader went away).
    pub fn is_quiet(&self) -> bool {
        self.1
    }

    /// The message on one line (line breaks of nested errors become spaces).
    pub fn one_line(&self) -> String {
        self.0.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<iot_core::Error> for Failure {
    fn from(e: iot_core::Error) -> Self {
        Self::new(e.to_string())
    }
}

/// Adds what was being worked on (a file name, say) in front of an error.
pub trait Context<T> {
    /// `"{what}: {error}"`.
    fn context(self, what: impl fmt::Display) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| Failure::new(format!("{what}: {e}")))
    }
}

/// `Err(Failure)` from a format string.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::fail::Failure::new(format!($($arg)*)))
    };
}
pub(crate) use bail;
