/// True if `needle`'s UTF-8 bytes occur anywhere in `haystack`: the sentinel scan of bundles and database files.
public func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    let pattern = Array(needle.utf8)
    guard !pattern.isEmpty, haystack.count >= pattern.count else { return false }
    for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
        if haystack[start..<start + pattern.count].elementsEqual(pattern) { return true }
    }
    return false
}
