module example.com/tool

// Standard library only: no go.sum until a requirement is added.
go 1.24
