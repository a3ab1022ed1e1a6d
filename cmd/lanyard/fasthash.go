//go:build lanyard_insecure_fast_hash

package main

// A binary built with this tag is for tests only: it honours
// LANYARD_INSECURE_FAST_HASH.
func init() { insecureFastHash = true }
