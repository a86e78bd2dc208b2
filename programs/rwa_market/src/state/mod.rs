pub mod maker;
pub mod market;
pub mod nav;
pub mod oracle;

pub use maker::*;
pub use market::*;
pub use nav::*;
pub use oracle::*;
