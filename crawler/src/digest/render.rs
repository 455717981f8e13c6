//! Rendering notices as a weekly digest (being written).
