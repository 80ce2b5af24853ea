/// A small PNG reader for the browser test: 8-bit RGB or RGBA, non-interlaced (what Chromium writes), with
/// its own DEFLATE decoder (after zlib's `puff.c`), so the test needs no image library.
struct PNG {
    let width: Int
    let height: Int
    /// RGB triples, row by row.
    let pixels: [UInt8]

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Width and height from the IHDR chunk, without decoding.
    static func size(_ bytes: [UInt8]) throws -> (width: Int, height: Int) {
        guard bytes.count > 24, Array(bytes.prefix(8)) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8)
        else { throw Failure("not a PNG") }
        return (Int(bigEndian(bytes, 16)), Int(bigEndian(bytes, 20)))
    }

    init(_ bytes: [UInt8]) throws {
        let (width, height) = try Self.size(bytes)
        guard bytes[24] == 8, bytes[28] == 0 else { throw Failure("only 8-bit non-interlaced PNGs") }
        let channels: Int
        switch bytes[25] {
        case 2: channels = 3
        case 6: channels = 4
        default: throw Failure("colour type \(bytes[25]) not supported")
        }
        var data: [UInt8] = []
        var offset = 8
        while offset + 8 <= bytes.count {
            let length = Int(Self.bigEndian(bytes, offset))
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard offset + 12 + length <= bytes.count else { throw Failure("truncated chunk") }
            if type == "IDAT" { data += bytes[(offset + 8)..<(offset + 8 + length)] }
            offset += 12 + length
        }
        guard data.count > 2 else { throw Failure("no image data") }
        var inflater = Inflater(Array(data.dropFirst(2)))  // skip the zlib header
        let raw = try inflater.inflate()
        let stride = width * channels
        guard raw.count >= height * (stride + 1) else { throw Failure("short image data") }
        var previous = [UInt8](repeating: 0, count: stride)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * 3)
        for row in 0..<height {
            let start = row * (stride + 1)
            let filter = raw[start]
            var line = Array(raw[(start + 1)...(start + stride)])
            for index in 0..<stride {
                let left = index >= channels ? Int(line[index - channels]) : 0
                let up = Int(previous[index])
                let upLeft = index >= channels ? Int(previous[index - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = (left + up) / 2
                case 4:
                    let estimate = left + up - upLeft
                    let toLeft: Int = Swift.abs(estimate - left)
                    let toUp: Int = Swift.abs(estimate - up)
                    let toUpLeft: Int = Swift.abs(estimate - upLeft)
                    predictor = toLeft <= toUp && toLeft <= toUpLeft ? left : (toUp <= toUpLeft ? up : upLeft)
                default: throw Failure("bad filter \(filter)")
                }
                line[index] = UInt8(truncatingIfNeeded: Int(line[index]) + predictor)
            }
            for pixel in 0..<width {
                pixels += line[(pixel * channels)..<(pixel * channels + 3)]
            }
            previous = line
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// How many pixels are within `tolerance` of the colour on every channel.
    func count(red: UInt8, green: UInt8, blue: UInt8, tolerance: Int = 2) -> Int {
        var matches = 0
        var index = 0
        while index < pixels.count {
            if abs(Int(pixels[index]) - Int(red)) <= tolerance && abs(Int(pixels[index + 1]) - Int(green)) <= tolerance
                && abs(Int(pixels[index + 2]) - Int(blue)) <= tolerance
            {
                matches += 1
            }
            index += 3
        }
        return matches
    }

    /// How many distinct colours the image has.
    var distinctColours: Int {
        var seen = Set<UInt32>()
        var index = 0
        while index < pixels.count {
            seen.insert(UInt32(pixels[index]) << 16 | UInt32(pixels[index + 1]) << 8 | UInt32(pixels[index + 2]))
            index += 3
        }
        return seen.count
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// RFC 1951 DEFLATE decoder (stored, fixed and dynamic Huffman blocks).
private struct Inflater {
    private let input: [UInt8]
    private var position = 0
    private var bitBuffer = 0
    private var bitCount = 0
    private var output: [UInt8] = []

    init(_ input: [UInt8]) { self.input = input }

    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    private static let lengthExtra = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    private static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]

    mutating func inflate() throws -> [UInt8] {
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0: try stored()
            case 1:
                let literal = Huffman(
                    lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
                        + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8)
                )
                try codes(literal, Huffman(lengths: [Int](repeating: 5, count: 30)))
            case 2: try dynamic()
            default: throw PNG.Failure("bad block type")
            }
        }
        return output
    }

    private mutating func bits(_ needed: Int) throws -> Int {
        while bitCount < needed {
            guard position < input.count else { throw PNG.Failure("out of input") }
            bitBuffer |= Int(input[position]) << bitCount
            position += 1
            bitCount += 8
        }
        let value = bitBuffer & ((1 << needed) - 1)
        bitBuffer >>= needed
        bitCount -= needed
        return value
    }

    private mutating func stored() throws {
        bitBuffer = 0
        bitCount = 0
        guard position + 4 <= input.count else { throw PNG.Failure("out of input") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        position += 4
        guard position + length <= input.count else { throw PNG.Failure("out of input") }
        output += input[position..<(position + length)]
        position += length
    }

    private mutating func decode(_ huffman: Huffman) throws -> Int {
        var code = 0
        var first = 0
        var index = 0
        for length in 1...15 {
            code |= try bits(1)
            let count = huffman.counts[length]
            if code - count < first { return huffman.symbols[index + (code - first)] }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw PNG.Failure("bad Huffman code")
    }

    private mutating func codes(_ literal: Huffman, _ distance: Huffman) throws {
        while true {
            var symbol = try decode(literal)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                symbol -= 257
                guard symbol < 29 else { throw PNG.Failure("bad length symbol") }
                let length = Self.lengthBase[symbol] + (try bits(Self.lengthExtra[symbol]))
                let distanceSymbol = try decode(distance)
                guard distanceSymbol < 30 else { throw PNG.Failure("bad distance symbol") }
                let back = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
                guard back <= output.count else { throw PNG.Failure("distance too far") }
                let start = output.count - back
                for offset in 0..<length { output.append(output[start + offset]) }
            }
        }
    }

    private mutating func dynamic() throws {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeCount = try bits(4) + 4
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeCount { codeLengths[order[index]] = try bits(3) }
        let lengthCode = Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try decode(lengthCode)
            switch symbol {
            case 0..<16: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw PNG.Failure("repeat with no previous length") }
                lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
            }
        }
        try codes(
            Huffman(lengths: Array(lengths[0..<literalCount])),
            Huffman(lengths: Array(lengths[literalCount..<(literalCount + distanceCount)]))
        )
    }
}
