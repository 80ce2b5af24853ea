/// Appends big-endian integers, LEB128 varints and length-prefixed fields to a byte array.
package struct ByteWriter: Sendable {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    package mutating func write(_ byte: UInt8) { bytes.append(byte) }
    package mutating func write<Bytes: Sequence<UInt8>>(_ raw: Bytes) { bytes.append(contentsOf: raw) }

    package mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    package mutating func writeUInt32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    package mutating func writeUInt64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Unsigned LEB128.
    package mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Zigzag then LEB128.
    package mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Varint length, then UTF-8 bytes.
    package mutating func writeString(_ text: String) {
        writeVarint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }
}

/// Reads what `ByteWriter` writes, checking every length; never traps on hostile input.
package struct ByteReader: Sendable {
    private let bytes: [UInt8]
    package private(set) var offset: Int
    /// What is being read, for error messages ("envelope", "operation batch", ...).
    private let what: String

    package init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.offset = 0
        self.what = what
    }

    package var remaining: Int { bytes.count - offset }
    package var isAtEnd: Bool { offset == bytes.count }

    /// Moves to `offset` (within the bytes), to read a part located earlier.
    package mutating func skip(to offset: Int) {
        precondition((0...bytes.count).contains(offset), "offset \(offset) is outside \(bytes.count) bytes")
        self.offset = offset
    }

    package func truncated(_ field: String) -> WireError {
        WireError(.truncated, "\(what) is truncated: it ends at byte \(bytes.count) while reading \(field)")
    }

    package func malformed(_ detail: String) -> WireError {
        WireError(.malformed, "\(what) is malformed at byte \(offset): \(detail)")
    }

    package mutating func readByte(_ field: @autoclosure () -> String) throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw truncated(field()) }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readBytes(_ count: Int, _ field: @autoclosure () -> String) throws(WireError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw truncated(field()) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// The next `count` bytes, without copying them out (ids, integers and strings are read in place).
    package mutating func readSlice(_ count: Int, _ field: @autoclosure () -> String) throws(WireError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw truncated(field()) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    package mutating func readUInt16(_ field: @autoclosure () -> String) throws(WireError) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBigEndian(2, field()))
    }

    package mutating func readUInt32(_ field: @autoclosure () -> String) throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBigEndian(4, field()))
    }

    package mutating func readUInt64(_ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        try readBigEndian(8, field())
    }

    private mutating func readBigEndian(_ count: Int, _ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        try readSlice(count, field()).reduce(0) { $0 << 8 | UInt64($1) }
    }

    package mutating func readVarint(_ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte(field())
            guard shift < 64, !(shift == 63 && byte > 1) else { throw malformed("\(field()) overflows 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    package mutating func readSignedVarint(_ field: @autoclosure () -> String) throws(WireError) -> Int64 {
        let raw = try readVarint(field())
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A varint that must not exceed `limit`.
    package mutating func readCount(_ field: @autoclosure () -> String, limit: Int) throws(WireError) -> Int {
        let raw = try readVarint(field())
        guard raw <= UInt64(limit) else {
            throw WireError(.tooLarge, "\(what): \(field()) is \(raw), over the limit of \(limit)")
        }
        return Int(raw)
    }

    package mutating func readString(_ field: @autoclosure () -> String, maxBytes: Int) throws(WireError) -> String {
        let count = try readCount("\(field()) length", limit: maxBytes)
        let raw = try readSlice(count, field())
        guard let text = String(validating: raw, as: UTF8.self) else { throw malformed("\(field()) is not valid UTF-8") }
        return text
    }
}
