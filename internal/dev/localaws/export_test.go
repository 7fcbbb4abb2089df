package localaws

// Alive exposes alive to the external tests.
var Alive = alive

// DataDir exposes an emulator's data directory ("" for none) to the
// external tests.
func DataDir(e *Emulator) string { return e.dataDir }
