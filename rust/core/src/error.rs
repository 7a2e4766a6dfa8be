//! Error type of the engine.
//!
//! Every fallible public function returns [`Result`]. The Python bindings map
//! [`Error::Value`] and [`Error::Shape`] to `ValueError`, [`Error::Type`] to
//! `TypeError`, [`Error::Memory`] to `MemoryError` and [`Error::Io`] to `OSError`.

/// Errors raised by `pyspec-core`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter or input value is out of its valid domain.
    #[error("{0}")]
    Value(String),
    /// Array shapes do not agree.
    #[error("{0}")]
    Shape(String),
    /// An input has an unsupported element type or layout.
    #[error("{0}")]
    Type(String),
    /// An allocation would exceed the available or allowed memory.
    #[error("{0}")]
    Memory(String),
    /// A file-system operation failed (temporary files of the on-disk median).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Convenience constructor for [`Error::Value`].
    pub fn value(msg: impl Into<String>) -> Self {
        Error::Value(msg.into())
    }
    /// Convenience constructor for [`Error::Shape`].
    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
