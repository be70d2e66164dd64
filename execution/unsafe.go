package execution

import "unsafe"

// unsafeBytes views a string's bytes without copying (read-only use).
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
