//! Least-squares cubic B-spline fits with iterative rejection (spec adaptive_trace_model.md 6.3).
