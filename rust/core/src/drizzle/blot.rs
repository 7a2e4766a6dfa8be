//! Blot (spec drizzle.md section 9). PLACEHOLDER until implemented.
