pub mod market;
pub mod oracle;

pub use market::*;
pub use oracle::*;
