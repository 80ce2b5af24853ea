// libFuzzer executable of the `csv-import` target, built by `make fuzz` (see Fuzz/README.md).
import EntenteFuzz

/// libFuzzer's callback: one input for the `csv-import` target (SwiftPM's `--sanitize fuzzer` links libFuzzer's `main`).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.testOneInput("csv-import", data, size)
}
