package localaws

// Alive exposes alive to the external tests.
var Alive = alive
