package convert

// CheckConversion lets the external tests, which may import
// runtimes/fixtures (it imports this package), run the same checks.
var CheckConversion = checkConversion
