/// A 128-bit identifier stored as two big-endian words, shared by every id type of the core.
///
/// Ids are compared and hashed as numbers; their canonical byte form is 16 bytes, big-endian,
/// and their text form is 32 lowercase hex digits.
public struct ID128: Hashable, Comparable, Sendable {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 8 bytes, big-endian.
    public var low: UInt64

    /// The number of bytes in the canonical form.
    public static let byteCount = 16

    /// Creates an id from its two words.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates an id from exactly 16 bytes, or returns nil for any other length.
    /// Inlinable so that callers specialise it for their collection (an unspecialised generic call costs a
    /// metadata lookup per byte, which dominated loading objects from the store).
    @inlinable
    public init?<Bytes: Collection<UInt8>>(bytes: Bytes) {
        guard bytes.count == Self.byteCount else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var index = 0
        for byte in bytes {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            index += 1
        }
        self.init(high: high, low: low)
    }

    /// Creates an id from 32 hex digits, or returns nil if the text is not exactly that.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), let id = ID128(bytes: bytes) else { return nil }
        self = id
    }

    /// The 16 canonical bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: low >> UInt64(shift)))
        }
        return out
    }

    /// The 32-digit lowercase hex form.
    public var hex: String { Hex.encode(bytes) }

    /// Orders ids as unsigned 128-bit numbers (the same order as their bytes).
    public static func < (lhs: ID128, rhs: ID128) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// Declares a typed 128-bit identifier so that company, replica and object ids never mix.
public protocol TypedID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The underlying 128 bits.
    var raw: ID128 { get }
    /// Wraps raw bits.
    init(raw: ID128)
}

extension TypedID {
    /// Creates the id from 16 bytes, or returns nil for any other length.
    @inlinable
    public init?<Bytes: Collection<UInt8>>(bytes: Bytes) {
        guard let raw = ID128(bytes: bytes) else { return nil }
        self.init(raw: raw)
    }

    /// Creates the id from 32 hex digits.
    public init?(hex: String) {
        guard let raw = ID128(hex: hex) else { return nil }
        self.init(raw: raw)
    }

    /// The 16 canonical bytes.
    public var bytes: [UInt8] { raw.bytes }
    /// The 32-digit hex form.
    public var hex: String { raw.hex }
    /// The first 12 hex digits, for display.
    public var short: String { String(raw.hex.prefix(12)) }
    /// The hex form.
    public var description: String { raw.hex }
    /// Orders by the raw bits.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }
}

/// A company's identity: derived from its Ed25519 company public key (see `Specs/envelope.md`).
public struct CompanyID: TypedID {
    /// The underlying bits.
    public let raw: ID128
    /// Wraps raw bits.
    public init(raw: ID128) { self.raw = raw }
}

/// A replica's identity: derived from the replica's Ed25519 public key.
public struct ReplicaID: TypedID {
    /// The underlying bits.
    public let raw: ID128
    /// Wraps raw bits.
    public init(raw: ID128) { self.raw = raw }
}

/// A shared object's identity: bound to its owner company (see `Specs/crdt.md`).
public struct ObjectID: TypedID {
    /// The underlying bits.
    public let raw: ID128
    /// Wraps raw bits.
    public init(raw: ID128) { self.raw = raw }
}

/// Lowercase hex encoding and strict decoding.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case); returns nil on an odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A company id is encoded as its 32 hex digits (policies, JSON output).
extension CompanyID: Codable {
    /// Decodes 32 hex digits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = CompanyID(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a company id")
        }
        self = id
    }

    /// Encodes 32 hex digits.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
