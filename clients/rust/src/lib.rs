//! graph-rs-sdk against enrollgraph: see `examples/round_trip.rs`.
