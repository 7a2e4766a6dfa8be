//! Outlier-detection primitives: derivative image, single- and two-threshold tests, weight threshold, median filters, TSO and IFU helpers (spec outlier_detection.md 5, 12).
