// libFuzzer entry point of the `handshake` target (built by `make fuzz`; see Fuzz/README.md).
import EntenteFuzz

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.testOneInput("handshake", data, size)
}
