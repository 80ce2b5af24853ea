import EntenteCore
import EntenteCrypto
import EntenteTestSupport
import Testing

@testable import EntenteWire

@Suite("OperationCodec")
struct OperationCodecTests {
    // MARK: round trips

    @Test("random operation lists of every kind round-trip", arguments: [UInt64(1), 2, 3, 4])
    func randomRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<100 {
            let operations = rng.operations(count: rng.int(0...12))
            let encoded = OperationCodec.encode(operations)
            let decoded = try OperationCodec.decode(encoded)
            #expect(decoded == operations)
            // Encoding is a function of the operations: decoding then re-encoding gives the same bytes.
            #expect(OperationCodec.encode(decoded) == encoded)
        }
    }

    @Test(
        "every value kind round-trips",
        arguments: [
            Value.null, .string(""), .string("plain"), .string("naïve café 日本語 😀👩‍👩‍👧"), .string("e\u{0301}"),
            .string("\u{0000}\u{001F}"), .string(String(repeating: "é", count: 5_000)), .integer(.min), .integer(.max),
            .integer(0), .integer(-1), .integer(1), .boolean(true), .boolean(false),
            .decimal(DecimalNumber("-123.45")!), .decimal(DecimalNumber(significand: 1, scale: 18)!),
            .decimal(DecimalNumber(significand: .min, scale: 0)!), .money(Money("1250000.00 USD")!),
            .money(Money("-0.01 EUR")!),
            .date(CalendarDate("2024-02-29")!), .date(CalendarDate("0001-01-01")!), .date(CalendarDate("9999-12-31")!),
            .timestamp(0), .timestamp(-1), .timestamp(-62_135_596_800_000), .timestamp(.max), .enumeration(""),
            .enumeration("closed-won"), .reference(ObjectID(raw: ID128(high: .max, low: 0))),
        ]
    )
    func valueRoundTrip(value: Value) throws {
        var rng = SplitMix64(seed: 99)
        let company = rng.company()
        let visibilities: [Visibility] = [
            .private, .participants, .companies([]), .companies([company, rng.company()]),
        ]
        for visibility in visibilities {
            for namespace in [Namespace.joint, .company(company)] {
                let operation = Operation(
                    object: rng.object(),
                    timestamp: rng.timestamp(),
                    kind: .set(FieldKey(namespace, "field"), value, visibility, preds: [])
                )
                let decoded = try OperationCodec.decode(OperationCodec.encode([operation]))
                #expect(decoded == [operation])
                // Compare string payloads byte for byte: Swift's == is canonical equivalence, not identity.
                if case .set(_, .string(let text), _, _) = decoded.first?.kind, case .string(let original) = value {
                    #expect(Array(text.utf8) == Array(original.utf8))
                }
            }
        }
    }

    @Test("an empty batch encodes as version 3 with empty tables and count 0; versions 1 and 2 still read")
    func emptyBatch() throws {
        #expect(OperationCodec.encode([]) == [0x03, 0x00, 0x00, 0x00, 0x00])
        #expect(try OperationCodec.decode([0x03, 0x00, 0x00, 0x00, 0x00]) == [])
        #expect(try OperationCodec.decode([0x02, 0x00, 0x00, 0x00]) == [])
        #expect(OperationCodec.encode([], version: 1) == [0x01, 0x00])
        #expect(try OperationCodec.decode([0x01, 0x00]) == [])
    }

    // MARK: golden vector

    /// Hand-assembled bytes for three operations, one of each kind, covering every tag: pins the format.
    @Test("a hand-built batch decodes, and encoding reproduces it byte for byte")
    func goldenVector() throws {
        let object = try #require(ObjectID(bytes: Array(0x01...0x10)))
        let replica = try #require(ReplicaID(bytes: [UInt8](repeating: 0xAA, count: 16)))
        let companyLow = try #require(CompanyID(bytes: [UInt8](repeating: 0x11, count: 16)))
        let companyHigh = try #require(CompanyID(bytes: [UInt8](repeating: 0x22, count: 16)))
        let nonce = [UInt8](repeating: 0x5A, count: 16)
        let operations = [
            Operation(
                object: object,
                timestamp: Timestamp(physical: 300, counter: 1, replica: replica),
                kind: .create(type: "opp", nonce: nonce)
            ),
            Operation(
                object: object,
                timestamp: Timestamp(physical: 0, counter: 0, replica: replica),
                kind: .addParticipant(companyHigh)
            ),
            Operation(
                object: object,
                timestamp: Timestamp(physical: 1, counter: 128, replica: replica),
                kind: .set(FieldKey(.joint, "a"), .integer(-1), .participants, preds: [])
            ),
            Operation(
                object: object,
                timestamp: Timestamp(physical: 2, counter: 0, replica: replica),
                kind: .set(
                    FieldKey(.company(companyLow), "b"),
                    .string("é"),
                    .companies([companyHigh, companyLow]),
                    preds: []
                )
            ),
            Operation(
                object: object,
                timestamp: Timestamp(physical: 3, counter: 0, replica: replica),
                kind: .set(FieldKey(.company(companyLow), "c"), .boolean(true), .private, preds: [])
            ),
            Operation(
                object: object,
                timestamp: Timestamp(physical: 4, counter: 0, replica: replica),
                kind: .set(FieldKey(.joint, "d"), .null, .participants, preds: [])
            ),
        ]
        let objectBytes = [UInt8](0x01...0x10)
        let replicaBytes = [UInt8](repeating: 0xAA, count: 16)
        let low = [UInt8](repeating: 0x11, count: 16)
        let high = [UInt8](repeating: 0x22, count: 16)
        var expected: [UInt8] = [0x01, 0x06]  // version 1, six operations
        // create: tag 1, object, physical 300 (0xAC 0x02), counter 1, replica, type "opp", nonce
        expected += [0x01] + objectBytes + [0xAC, 0x02, 0x01] + replicaBytes + [0x03] + Array("opp".utf8) + nonce
        // addParticipant: tag 2, object, 0, 0, replica, company
        expected += [0x02] + objectBytes + [0x00, 0x00] + replicaBytes + high
        // set joint "a" = integer -1 (zigzag 1), participants, no predecessors
        expected +=
            [0x03] + objectBytes + [0x01, 0x80, 0x01] + replicaBytes + [0x00, 0x01, 0x61, 0x02, 0x01, 0x01, 0x00]
        // set company "b" = string "é" (2 bytes), companies {low, high} sorted ascending, no predecessors
        expected += [0x03] + objectBytes + [0x02, 0x00] + replicaBytes + [0x01] + low + [0x01, 0x62]
        expected += [0x01, 0x02, 0xC3, 0xA9] + [0x02, 0x02] + low + high + [0x00]
        // set company "c" = true, private, no predecessors
        expected +=
            [0x03] + objectBytes + [0x03, 0x00] + replicaBytes + [0x01] + low + [0x01, 0x63, 0x03, 0x01, 0x00, 0x00]
        // set joint "d" = null, participants, no predecessors
        expected += [0x03] + objectBytes + [0x04, 0x00] + replicaBytes + [0x00, 0x01, 0x64, 0x00, 0x01, 0x00]

        #expect(OperationCodec.encode(operations, version: 1) == expected)
        #expect(try OperationCodec.decode(expected) == operations)
    }

    static let zigzagVectors: [(Int64, [UInt8])] = [
        (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-64, [0x7F]), (64, [0x80, 0x01]),
        (.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        (.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    @Test("integers use zigzag LEB128", arguments: zigzagVectors)
    func zigzag(number: Int64, expected: [UInt8]) throws {
        var writer = ByteWriter()
        writer.writeSignedVarint(number)
        #expect(writer.bytes == expected)
        var reader = ByteReader(expected, what: "test")
        #expect(try reader.readSignedVarint("n") == number)
        #expect(reader.isAtEnd)
    }

    // MARK: hostile input

    @Test("every strict prefix of an encoding throws .truncated", arguments: [UInt64(10), 11])
    func everyPrefixThrows(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<15 {
            let encoded = OperationCodec.encode(rng.operations(count: rng.int(0...6)))
            var failures: [Int] = []
            for length in 0..<encoded.count {
                let error = wireError { () throws(WireError) in try OperationCodec.decode(Array(encoded[..<length])) }
                if error?.code != .truncated { failures.append(length) }
            }
            #expect(failures.isEmpty, "prefixes that did not throw .truncated: \(failures)")
        }
    }

    @Test(
        "trailing bytes after the last operation are refused",
        arguments: [[UInt8]([0x00]), [0xFF, 0xFF], [0x01, 0x00]]
    )
    func trailingGarbage(garbage: [UInt8]) {
        var rng = SplitMix64(seed: 12)
        for count in [0, 1, 5] {
            let encoded = OperationCodec.encode(rng.operations(count: count))
            let error = wireError { () throws(WireError) in try OperationCodec.decode(encoded + garbage) }
            #expect(error?.code == .malformed)
            #expect(error?.message.contains("unexpected bytes") == true)
        }
    }

    @Test("an unknown batch version is refused", arguments: [[UInt8]([0x00]), [0x04], [0x7F], [0x80, 0x01]])
    func unknownVersion(version: [UInt8]) {
        var rng = SplitMix64(seed: 13)
        let encoded = OperationCodec.encode(rng.operations(count: 2))
        let error = wireError { () throws(WireError) in try OperationCodec.decode(version + encoded.dropFirst()) }
        #expect(error?.code == .unsupportedVersion)
    }

    /// Bytes of a batch holding one `set` operation with the given tail after the common prefix (tag, object,
    /// timestamp). The tail is namespace, name, value, visibility, then the predecessor count.
    private func setOperation(_ tail: [UInt8], counter: [UInt8] = [0x00]) -> [UInt8] {
        [0x01, 0x01, 0x03] + [UInt8](repeating: 7, count: 16) + [0x05] + counter + [UInt8](repeating: 9, count: 16)
            + tail
    }

    @Test("a hand-built set operation decodes (sanity check for the malformed cases)")
    func handBuiltSetDecodes() throws {
        let decoded = try OperationCodec.decode(setOperation([0x00, 0x01, 0x61, 0x03, 0x00, 0x00, 0x00]))
        #expect(decoded.count == 1)
        #expect(decoded.first?.kind == .set(FieldKey(.joint, "a"), .boolean(false), .private, preds: []))
        #expect(decoded.first?.writer == nil)
    }

    @Test(
        "unknown tags and out-of-range fields are malformed",
        arguments: [
            ("unknown namespace tag", [UInt8]([0x02, 0x01, 0x61, 0x00, 0x00, 0x00])),
            ("unknown value kind", [0x00, 0x01, 0x61, 0x0A, 0x00, 0x00]),
            ("boolean byte 2", [0x00, 0x01, 0x61, 0x03, 0x02, 0x00, 0x00]),
            ("unknown visibility tag", [0x00, 0x01, 0x61, 0x00, 0x03, 0x00]),
            ("invalid UTF-8 name", [0x00, 0x02, 0xC3, 0x28, 0x00, 0x00, 0x00]),
            ("invalid UTF-8 value", [0x00, 0x01, 0x61, 0x01, 0x01, 0xFF, 0x00, 0x00]),
        ]
    )
    func malformedTails(label: String, tail: [UInt8]) {
        let error = wireError { () throws(WireError) in try OperationCodec.decode(setOperation(tail)) }
        #expect(error?.code == .malformed, "\(label)")
    }

    @Test("an unknown operation kind is malformed")
    func unknownKind() {
        // Kinds 1...7 exist (4 is now "remove participant"); 8 does not.
        var bytes = setOperation([0x00, 0x01, 0x61, 0x00, 0x00, 0x00])
        bytes[2] = 0x08
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(bytes) }?.code == .malformed)
    }

    @Test("a timestamp counter above UInt32.max is malformed")
    func counterOverflow() throws {
        // 2^32 as LEB128: five bytes.
        let bytes = setOperation([0x00, 0x01, 0x61, 0x00, 0x00, 0x00], counter: [0x80, 0x80, 0x80, 0x80, 0x10])
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(bytes) }?.code == .malformed)
        let maxCounter = setOperation([0x00, 0x01, 0x61, 0x00, 0x00, 0x00], counter: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(try OperationCodec.decode(maxCounter).first?.timestamp.counter == UInt32.max)
    }

    @Test("varints longer than 64 bits are malformed")
    func varintOverflow() throws {
        // Ten bytes whose last carries more than the 64th bit, and an eleven-byte varint.
        let tooBig: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]
        let tooLong: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]
        for varint in [tooBig, tooLong] {
            var reader = ByteReader(varint, what: "test")
            #expect(wireError { () throws(WireError) in try reader.readVarint("n") }?.code == .malformed)
        }
        var reader = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], what: "test")
        #expect(try reader.readVarint("n") == UInt64.max)
    }

    @Test("limits: type 64 bytes, name 128 bytes, 64 visibility companies")
    func sizeLimits() throws {
        var rng = SplitMix64(seed: 14)
        let company = rng.company()
        func roundTrip(_ kind: Operation.Kind) -> WireError? {
            let operation = Operation(object: rng.object(), timestamp: rng.timestamp(), kind: kind)
            return wireError { () throws(WireError) in try OperationCodec.decode(OperationCodec.encode([operation])) }
        }
        let nonce = rng.bytes(16)
        #expect(roundTrip(.create(type: String(repeating: "t", count: 64), nonce: nonce)) == nil)
        #expect(roundTrip(.create(type: String(repeating: "t", count: 65), nonce: nonce))?.code == .tooLarge)
        #expect(
            roundTrip(.set(FieldKey(.joint, String(repeating: "n", count: 128)), .null, .participants, preds: []))
                == nil
        )
        #expect(
            roundTrip(.set(FieldKey(.joint, String(repeating: "n", count: 129)), .null, .participants, preds: []))?.code
                == .tooLarge
        )
        let sixtyFour = Set((0..<64).map { _ in rng.company() })
        #expect(roundTrip(.set(FieldKey(.company(company), "v"), .null, .companies(sixtyFour), preds: [])) == nil)
        let sixtyFive = sixtyFour.union([rng.company()])
        #expect(
            roundTrip(.set(FieldKey(.company(company), "v"), .null, .companies(sixtyFive), preds: []))?.code
                == .tooLarge
        )
    }

    @Test("an operation count over the limit is refused before allocating")
    func countOverLimit() {
        var writer = ByteWriter()
        writer.writeVarint(1)
        writer.writeVarint(UInt64(OperationCodec.maxOperations) + 1)
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(writer.bytes) }?.code == .tooLarge)
        var huge = ByteWriter()
        huge.writeVarint(1)
        huge.writeVarint(UInt64.max)
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(huge.bytes) }?.code == .tooLarge)
        // A count within the limit but with no operations behind it is merely truncated.
        #expect(wireError { () throws(WireError) in try OperationCodec.decode([0x01, 0x05]) }?.code == .truncated)
    }

    @Test("10,000 random and mutated inputs never trap; whatever decodes re-encodes to an equal batch")
    func fuzz() throws {
        var rng = SplitMix64(seed: 0xF00D)
        var decodedCount = 0
        var mismatches = 0
        for round in 0..<10_000 {
            var input: [UInt8]
            switch round % 4 {
            case 0:
                input = rng.bytes(rng.int(0...80))
            case 1:
                // Plausible header, random body: reaches the operation parser.
                input = [0x01, UInt8(rng.int(0...3))] + rng.bytes(rng.int(0...120))
            default:
                // A valid encoding with a few bytes changed, inserted or dropped.
                input = OperationCodec.encode(rng.operations(count: rng.int(1...3)))
                for _ in 0..<rng.int(1...4) {
                    let index = rng.int(0...(input.count - 1))
                    switch rng.int(0...2) {
                    case 0: input[index] = UInt8.random(in: 0...255, using: &rng)
                    case 1: input.insert(UInt8.random(in: 0...255, using: &rng), at: index)
                    default: if input.count > 1 { input.remove(at: index) }
                    }
                }
            }
            if let operations = try? OperationCodec.decode(input) {
                decodedCount += 1
                if (try? OperationCodec.decode(OperationCodec.encode(operations))) != operations { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        // The mutated inputs must sometimes still decode, or the fuzzer is not reaching deep code.
        #expect(decodedCount > 0)
    }
}
