import EntenteCrypto

struct HexDecodingError: Error {
    let text: String
}

/// Decodes a hex string (whitespace ignored) into bytes.
func hex(_ text: String) throws -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    guard digits.count % 2 == 0 else { throw HexDecodingError(text: text) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
            throw HexDecodingError(text: text)
        }
        bytes.append(byte)
        index += 2
    }
    return bytes
}

/// Encodes bytes as lowercase hex.
func hexString(_ bytes: [UInt8]) -> String {
    let alphabet = Array("0123456789abcdef")
    var text = ""
    for byte in bytes {
        text.append(alphabet[Int(byte >> 4)])
        text.append(alphabet[Int(byte & 0x0f)])
    }
    return text
}

/// Returns `bytes` with bit `bit` (0...7) of byte `index` flipped.
func flipping(_ bytes: [UInt8], byte index: Int, bit: Int = 0) -> [UInt8] {
    var copy = bytes
    copy[index] ^= UInt8(1) << UInt8(bit)
    return copy
}
