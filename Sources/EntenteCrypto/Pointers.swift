/// Pointer helpers for passing `[UInt8]` to C.
///
/// `withUnsafeBufferPointer` on an empty array may yield a `nil` base address. libsodium
/// accepts `NULL` with length 0 for messages and associated data, but these helpers always
/// supply a valid pointer so that no call site has to reason about it. The pointers are
/// valid only inside the closure and must not escape it.
extension Array where Element == UInt8 {
    /// Calls `body` with a non-null pointer to the elements and their count.
    ///
    /// For an empty array the pointer refers to a one-byte temporary and the count is 0.
    func withCPointer<R>(_ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress {
                return body(base, buffer.count)
            }
            return withUnsafePointer(to: UInt8(0)) { body($0, 0) }
        }
    }

    /// Calls `body` with a non-null mutable pointer to the elements and their count.
    ///
    /// For an empty array the pointer refers to a one-byte temporary and the count is 0.
    mutating func withMutableCPointer<R>(_ body: (UnsafeMutablePointer<UInt8>, Int) -> R) -> R {
        withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress {
                return body(base, buffer.count)
            }
            var placeholder: UInt8 = 0
            return withUnsafeMutablePointer(to: &placeholder) { body($0, 0) }
        }
    }
}
