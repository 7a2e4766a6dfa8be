//! The adaptive trace model of spectral regions: column fits, scale factors, oversampling (spec adaptive_trace_model.md 5-9).
