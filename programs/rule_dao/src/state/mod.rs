pub mod dao;
pub mod position;
pub mod proposal;
pub mod rule_set;

pub use dao::*;
pub use position::*;
pub use proposal::*;
pub use rule_set::*;
