pub mod collateral;
pub mod lending_market;
pub mod obligation;
pub mod risk;

pub use collateral::*;
pub use lending_market::*;
pub use obligation::*;
pub use risk::*;
