module github.com/cimd/cimd/bindings/go

go 1.24
