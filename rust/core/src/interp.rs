//! Interpolation of pixel maps evaluated on a sparse grid (to be written).
