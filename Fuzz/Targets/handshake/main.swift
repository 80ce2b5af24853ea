// libFuzzer executable of the `handshake` target, built by `make fuzz` (see Fuzz/README.md).
import EntenteFuzz

/// libFuzzer's callback: one input for the `handshake` target (SwiftPM's `--sanitize fuzzer` links libFuzzer's `main`).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.testOneInput("handshake", data, size)
}
