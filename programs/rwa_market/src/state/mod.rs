pub mod maker;
pub mod market;
pub mod oracle;

pub use maker::*;
pub use market::*;
pub use oracle::*;
