//! Nan-median of image stacks, in memory and in sections on disk under a memory budget (spec outlier_detection.md 5.4-5.5, 8).
