import EntenteCore
import EntenteTestSupport
import Testing

@testable import EntenteWire

/// The operation kinds and value kinds added after the first format: membership removal, archive, set
/// elements, predecessors, explicit writers, and the decimal, money, date, timestamp, enumeration and
/// reference values. Expected bytes are assembled by hand from the layout in `OperationCodec.swift`
/// (tag, object, timestamp, optional writer, body), never copied from the encoder's output.
@Suite("OperationCodec: operation and value kinds")
struct OperationKindCodecTests {
    static let objectBytes = [UInt8](0x01...0x10)
    static let replicaBytes = [UInt8](repeating: 0xAA, count: 16)
    static let otherReplicaBytes = [UInt8](repeating: 0xBB, count: 16)
    static let low = [UInt8](repeating: 0x11, count: 16)
    static let high = [UInt8](repeating: 0x22, count: 16)
    static let referenced = [UInt8](0xF0...0xFF)

    static let object = ObjectID(bytes: objectBytes)!
    static let replica = ReplicaID(bytes: replicaBytes)!
    static let otherReplica = ReplicaID(bytes: otherReplicaBytes)!
    static let companyLow = CompanyID(bytes: low)!
    static let companyHigh = CompanyID(bytes: high)!

    static func stamp(_ physical: UInt64, _ counter: UInt32 = 0, _ replica: ReplicaID = replica) -> Timestamp {
        Timestamp(physical: physical, counter: counter, replica: replica)
    }

    static func decimal(_ text: String) -> DecimalNumber { DecimalNumber(text)! }

    // MARK: round trips of every kind

    /// One operation body of each kind, with the tag the codec must write for it.
    static let kinds: [(String, UInt8, Operation.Kind)] = [
        ("create", 1, .create(type: "opportunity", nonce: [UInt8](repeating: 0x5A, count: 16))),
        ("add participant", 2, .addParticipant(companyHigh)),
        ("set, no predecessors", 3, .set(FieldKey(.joint, "stage"), .string("qualified"), .participants, preds: [])),
        (
            "set, two predecessors", 3,
            .set(
                FieldKey(.company(companyLow), "amount"),
                .integer(7),
                .companies([companyHigh]),
                preds: [stamp(1), stamp(2, 3, otherReplica)]
            )
        ),
        ("remove participant", 4, .removeParticipant(companyHigh)),
        ("archive", 5, .archive(true)),
        ("restore", 5, .archive(false)),
        ("add element", 6, .addElement(FieldKey(.joint, "tags"), "vip", .participants)),
        ("add empty element", 6, .addElement(FieldKey(.company(companyLow), "tags"), "", .private)),
        (
            "remove element, nothing observed", 7,
            .removeElement(FieldKey(.joint, "tags"), "vip", observed: [], .participants)
        ),
        (
            "remove element, two observed", 7,
            .removeElement(
                FieldKey(.joint, "tags"),
                "vip",
                observed: [stamp(4), stamp(5, 0, otherReplica)],
                .participants
            )
        ),
    ]

    @Test("every operation kind round-trips, with and without an explicit writer", arguments: kinds)
    func kindRoundTrip(example: (String, UInt8, Operation.Kind)) throws {
        let (label, tag, kind) = example
        for writer in [nil, Self.companyLow] {
            // physical 1 and counter 0 are one varint byte each, so the writer (if any) sits at byte 37.
            let operation = Operation(object: Self.object, timestamp: Self.stamp(1), kind: kind, writer: writer)
            let encoded = OperationCodec.encode([operation], version: 1)
            #expect(Array(encoded[0..<2]) == [0x01, 0x01], "\(label)")
            #expect(encoded[2] == (writer == nil ? tag : tag | 0x80), "\(label)")
            #expect(Array(encoded[3..<19]) == Self.objectBytes, "\(label)")
            #expect(Array(encoded[19..<21]) == [0x01, 0x00], "\(label)")
            #expect(Array(encoded[21..<37]) == Self.replicaBytes, "\(label)")
            if writer != nil { #expect(Array(encoded[37..<53]) == Self.low, "\(label)") }
            let decoded = try OperationCodec.decode(encoded)
            #expect(decoded == [operation], "\(label)")
            #expect(decoded.first?.writer == writer, "\(label)")
            #expect(OperationCodec.encode(decoded, version: 1) == encoded, "\(label)")
            // The compact versions carry the same operation, with a few bytes of tables (version 3: a slot too).
            for version in UInt64(2)...3 {
                let compact = OperationCodec.encode([operation], version: version)
                #expect(compact.first == UInt8(version) && compact.count < encoded.count + 4 + 4 * Int(version), "\(label)")
                #expect(try OperationCodec.decode(compact) == [operation], "\(label)")
            }
        }
    }

    @Test("predecessor and observed lists of 0, 1 and 64 timestamps round-trip in order", arguments: [0, 1, 64])
    func listsRoundTrip(count: Int) throws {
        var rng = SplitMix64(seed: UInt64(100 + count))
        let stamps = (0..<count).map { _ in
            Timestamp(
                physical: rng.next() >> 1,
                counter: UInt32.random(in: 0...UInt32.max, using: &rng),
                replica: rng.replica()
            )
        }
        let operations = [
            Operation(
                object: Self.object,
                timestamp: Self.stamp(9),
                kind: .set(FieldKey(.joint, "a"), .null, .participants, preds: stamps)
            ),
            Operation(
                object: Self.object,
                timestamp: Self.stamp(10),
                kind: .removeElement(FieldKey(.joint, "s"), "x", observed: stamps, .participants),
                writer: Self.companyHigh
            ),
        ]
        let decoded = try OperationCodec.decode(OperationCodec.encode(operations))
        #expect(decoded == operations)
        guard case .set(_, _, _, let preds)? = decoded.first?.kind,
            case .removeElement(_, _, let observed, _)? = decoded.last?.kind
        else {
            Issue.record("wrong kinds decoded")
            return
        }
        #expect(preds == stamps)  // order is kept, not sorted
        #expect(observed == stamps)
    }

    // MARK: golden vectors

    /// Each value's exact bytes (tag, then payload), derived by hand: zigzag LEB128 for signed numbers,
    /// u8 scale, three ASCII currency letters, u8 month and day, length-prefixed UTF-8, 16-byte ids.
    static let valueVectors: [(Value, [UInt8])] = [
        (.null, [0x00]),
        (.string(""), [0x01, 0x00]),
        (.string("é"), [0x01, 0x02, 0xC3, 0xA9]),
        (.integer(.min), [0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        (.integer(.max), [0x02, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        (.boolean(false), [0x03, 0x00]),
        (.boolean(true), [0x03, 0x01]),
        // -0.001: significand -1 (zigzag 1), scale 3
        (.decimal(decimal("-0.001")), [0x04, 0x01, 0x03]),
        // 1e-18: significand 1 (zigzag 2), scale 18
        (.decimal(DecimalNumber(significand: 1, scale: 18)!), [0x04, 0x02, 0x12]),
        // -123.45: significand -12345, zigzag 24689 = 0x71 + 0x40·2^7 + 1·2^14
        (.decimal(decimal("-123.45")), [0x04, 0xF1, 0xC0, 0x01, 0x02]),
        // 1250000.00 USD normalises to 1250000 scale 0; zigzag 2500000 = 0x20 + 0x4B·2^7 + 0x18·2^14 + 1·2^21
        (.money(Money("1250000.00 USD")!), [0x05, 0xA0, 0xCB, 0x98, 0x01, 0x00, 0x55, 0x53, 0x44]),
        // 1234.50 EUR: significand 12345 (zigzag 24690), scale 1
        (.money(Money("EUR 1234.50")!), [0x05, 0xF2, 0xC0, 0x01, 0x01, 0x45, 0x55, 0x52]),
        // 2024-02-29: year zigzag 4048 = 0x50 + 0x1F·2^7, month 2, day 29
        (.date(CalendarDate("2024-02-29")!), [0x06, 0xD0, 0x1F, 0x02, 0x1D]),
        (.date(CalendarDate("0001-01-01")!), [0x06, 0x02, 0x01, 0x01]),
        (.timestamp(0), [0x07, 0x00]),
        (.timestamp(-1), [0x07, 0x01]),
        // -86400001 ms (one day and a millisecond before the epoch): zigzag 172800001
        (.timestamp(-86_400_001), [0x07, 0x81, 0xF0, 0xB2, 0x52]),
        (.timestamp(.min), [0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        (.enumeration(""), [0x08, 0x00]),
        (.enumeration("won"), [0x08, 0x03, 0x77, 0x6F, 0x6E]),
        (.reference(ObjectID(bytes: referenced)!), [0x09] + referenced),
    ]

    @Test("every value kind has its documented bytes and round-trips")
    func valueVectorsHold() throws {
        for (index, (value, expected)) in Self.valueVectors.enumerated() {
            var writer = ByteWriter()
            OperationCodec.encode(value, into: &writer)
            // Compare with a plain Bool: a failure message must not print `.timestamp(.min)` (its description traps).
            let sameBytes = writer.bytes == expected
            #expect(sameBytes, "vector \(index): got \(writer.bytes)")
            var reader = ByteReader(expected, what: "value")
            let decoded = try OperationCodec.decodeValue(&reader)
            let sameValue = decoded == value
            #expect(sameValue, "vector \(index)")
            #expect(reader.isAtEnd, "vector \(index)")
            #expect(decoded.kindTag == expected[0], "vector \(index)")
        }
    }

    @Test(
        "extreme values survive a whole batch: Int64.min and Int64.max as integers and timestamps, decimals at both ends"
    )
    func extremeValuesInABatch() throws {
        let values: [Value] = [
            .integer(.min), .integer(.max), .timestamp(.min), .timestamp(.max),
            .decimal(DecimalNumber(significand: .min, scale: 18)!),
            .decimal(DecimalNumber(significand: .max, scale: 18)!),
            .decimal(DecimalNumber(significand: .max, scale: 0)!),
            .money(Money(amount: DecimalNumber(significand: .min, scale: 2)!, currency: CurrencyCode("XAU")!)),
            .date(CalendarDate(year: 9999, month: 12, day: 31)!), .date(CalendarDate(year: 1, month: 1, day: 1)!),
        ]
        let operations = values.enumerated().map { index, value in
            Operation(
                object: Self.object,
                timestamp: Self.stamp(UInt64(index)),
                kind: .set(FieldKey(.joint, "v"), value, .participants, preds: [])
            )
        }
        let decoded = try OperationCodec.decode(OperationCodec.encode(operations))
        let same = decoded == operations
        #expect(same)
    }

    /// One operation of every new kind and one set of every new value kind, assembled byte by byte.
    @Test("a hand-built batch of the new kinds decodes, and encoding reproduces it byte for byte")
    func goldenVector() throws {
        let (object, replica, other) = (Self.object, Self.replica, Self.otherReplica)
        let (low, high, objectBytes, replicaBytes, otherBytes) = (
            Self.low, Self.high, Self.objectBytes, Self.replicaBytes, Self.otherReplicaBytes
        )
        func at(_ physical: UInt64, _ counter: UInt32 = 0, _ replica: ReplicaID = replica) -> Timestamp {
            Timestamp(physical: physical, counter: counter, replica: replica)
        }
        let operations = [
            Operation(object: object, timestamp: at(5), kind: .removeParticipant(Self.companyHigh)),
            Operation(object: object, timestamp: at(6), kind: .archive(true)),
            Operation(object: object, timestamp: at(7), kind: .archive(false)),
            Operation(
                object: object,
                timestamp: at(8),
                kind: .set(
                    FieldKey(.joint, "a"),
                    .decimal(Self.decimal("-123.45")),
                    .participants,
                    preds: [at(1, 128), at(300, 0, other)]
                ),
                writer: Self.companyHigh
            ),
            Operation(
                object: object,
                timestamp: at(9),
                kind: .set(
                    FieldKey(.company(Self.companyLow), "m"),
                    .money(Money("1234.50 EUR")!),
                    .companies([Self.companyHigh, Self.companyLow]),
                    preds: []
                )
            ),
            Operation(
                object: object,
                timestamp: at(10),
                kind: .set(FieldKey(.joint, "d"), .date(CalendarDate("2024-02-29")!), .participants, preds: [])
            ),
            Operation(
                object: object,
                timestamp: at(11),
                kind: .set(FieldKey(.joint, "t"), .timestamp(-1), .participants, preds: [])
            ),
            Operation(
                object: object,
                timestamp: at(12),
                kind: .set(FieldKey(.joint, "e"), .enumeration("won"), .participants, preds: [])
            ),
            Operation(
                object: object,
                timestamp: at(13),
                kind: .set(
                    FieldKey(.joint, "r"),
                    .reference(ObjectID(bytes: Self.referenced)!),
                    .participants,
                    preds: []
                )
            ),
            Operation(
                object: object,
                timestamp: at(14),
                kind: .addElement(FieldKey(.company(Self.companyLow), "tags"), "vip", .private),
                writer: Self.companyLow
            ),
            Operation(
                object: object,
                timestamp: at(15),
                kind: .removeElement(FieldKey(.joint, "s"), "x", observed: [at(9, 1, other)], .participants)
            ),
            Operation(
                object: object,
                timestamp: at(16),
                kind: .set(
                    FieldKey(.joint, "z"),
                    .decimal(DecimalNumber(significand: 1, scale: 18)!),
                    .participants,
                    preds: []
                )
            ),
        ]
        var expected: [UInt8] = [0x01, 0x0C]  // version 1, twelve operations
        // remove participant: tag 4, object, physical 5, counter 0, replica, company
        expected += [0x04] + objectBytes + [0x05, 0x00] + replicaBytes + high
        // archive: tag 5, ..., flag 1; restore: flag 0
        expected += [0x05] + objectBytes + [0x06, 0x00] + replicaBytes + [0x01]
        expected += [0x05] + objectBytes + [0x07, 0x00] + replicaBytes + [0x00]
        // set with explicit writer: tag 3|0x80, object, timestamp, writer, joint "a", decimal -123.45, participants,
        // two predecessors: (1, 128 = 0x80 0x01, replica) and (300 = 0xAC 0x02, 0, other replica)
        expected += [0x83] + objectBytes + [0x08, 0x00] + replicaBytes + high + [0x00, 0x01, 0x61]
        expected += [0x04, 0xF1, 0xC0, 0x01, 0x02] + [0x01]
        expected += [0x02] + [0x01, 0x80, 0x01] + replicaBytes + [0xAC, 0x02, 0x00] + otherBytes
        // set company "m" = 1234.5 EUR (zigzag 24690, scale 1, "EUR"), companies {low, high} ascending, no predecessors
        expected += [0x03] + objectBytes + [0x09, 0x00] + replicaBytes + [0x01] + low + [0x01, 0x6D]
        expected += [0x05, 0xF2, 0xC0, 0x01, 0x01, 0x45, 0x55, 0x52] + [0x02, 0x02] + low + high + [0x00]
        // set joint "d" = 2024-02-29 (year zigzag 4048 = 0xD0 0x1F, month 2, day 29)
        expected +=
            [0x03] + objectBytes + [0x0A, 0x00] + replicaBytes + [0x00, 0x01, 0x64] + [0x06, 0xD0, 0x1F, 0x02, 0x1D] + [
                0x01, 0x00,
            ]
        // set joint "t" = timestamp -1 (zigzag 1)
        expected +=
            [0x03] + objectBytes + [0x0B, 0x00] + replicaBytes + [0x00, 0x01, 0x74] + [0x07, 0x01] + [0x01, 0x00]
        // set joint "e" = enumeration "won"
        expected +=
            [0x03] + objectBytes + [0x0C, 0x00] + replicaBytes + [0x00, 0x01, 0x65] + [0x08, 0x03, 0x77, 0x6F, 0x6E] + [
                0x01, 0x00,
            ]
        // set joint "r" = reference to object F0...FF
        expected +=
            [0x03] + objectBytes + [0x0D, 0x00] + replicaBytes + [0x00, 0x01, 0x72] + [0x09] + Self.referenced + [
                0x01, 0x00,
            ]
        // add element with explicit writer: tag 6|0x80, ..., writer, company "tags", element "vip", private
        expected +=
            [0x86] + objectBytes + [0x0E, 0x00] + replicaBytes + low + [0x01] + low + [0x04] + Array("tags".utf8)
        expected += [0x03] + Array("vip".utf8) + [0x00]
        // remove element: tag 7, ..., joint "s", element "x", participants, then one observed add (9, 1, other)
        expected += [0x07] + objectBytes + [0x0F, 0x00] + replicaBytes + [0x00, 0x01, 0x73] + [0x01, 0x78] + [0x01]
        expected += [0x01] + [0x09, 0x01] + otherBytes
        // set joint "z" = decimal 1e-18 (significand zigzag 2, scale 18)
        expected +=
            [0x03] + objectBytes + [0x10, 0x00] + replicaBytes + [0x00, 0x01, 0x7A] + [0x04, 0x02, 0x12] + [0x01, 0x00]

        #expect(OperationCodec.encode(operations, version: 1) == expected)
        #expect(try OperationCodec.decode(expected) == operations)
    }

    // MARK: refusals

    /// A batch of one operation: version 1, count 1, the kind byte, object 7…7, physical 5, counter 0,
    /// replica 9…9, then `tail` (writer and body).
    static func single(_ kind: UInt8, _ tail: [UInt8]) -> [UInt8] {
        [0x01, 0x01, kind] + [UInt8](repeating: 7, count: 16) + [0x05, 0x00] + [UInt8](repeating: 9, count: 16) + tail
    }

    /// A `set` of joint field "a" to the given value bytes, private, no predecessors.
    static func setValue(_ value: [UInt8]) -> [UInt8] { single(0x03, [0x00, 0x01, 0x61] + value + [0x00, 0x00]) }

    @Test("the helpers build decodable batches (sanity check for the refusals below)")
    func helpersDecode() throws {
        let decimal = try OperationCodec.decode(Self.setValue([0x04, 0x02, 0x01]))
        #expect(decimal.first?.kind == .set(FieldKey(.joint, "a"), .decimal(Self.decimal("0.1")), .private, preds: []))
        let money = try OperationCodec.decode(Self.setValue([0x05, 0x02, 0x00] + Array("USD".utf8)))
        #expect(money.first?.kind == .set(FieldKey(.joint, "a"), .money(Money("1 USD")!), .private, preds: []))
        let date = try OperationCodec.decode(Self.setValue([0x06, 0xD0, 0x1F, 0x02, 0x1D]))
        #expect(
            date.first?.kind == .set(FieldKey(.joint, "a"), .date(CalendarDate("2024-02-29")!), .private, preds: [])
        )
        let archive = try OperationCodec.decode(Self.single(0x05, [0x01]))
        #expect(archive.first?.kind == .archive(true))
        let flagged = try OperationCodec.decode(Self.single(0x85, Self.low + [0x00]))
        #expect(flagged.first?.kind == .archive(false))
        #expect(flagged.first?.writer == Self.companyLow)
    }

    static let malformedValues: [(String, [UInt8])] = [
        ("decimal 10 at scale 1 is not normalised", [0x04, 0x14, 0x01]),
        ("decimal 0 at scale 1 is not normalised", [0x04, 0x00, 0x01]),
        ("decimal -100 at scale 2 is not normalised", [0x04, 0xC7, 0x01, 0x02]),
        ("decimal scale 19", [0x04, 0x02, 0x13]),
        ("decimal scale 255", [0x04, 0x02, 0xFF]),
        ("money with a non-normalised amount", [0x05, 0x14, 0x01] + Array("USD".utf8)),
        ("money with scale 19", [0x05, 0x02, 0x13] + Array("USD".utf8)),
        ("currency in lower case", [0x05, 0x02, 0x00] + Array("usd".utf8)),
        ("currency with a digit", [0x05, 0x02, 0x00] + Array("US1".utf8)),
        ("currency with mixed case", [0x05, 0x02, 0x00] + Array("Usd".utf8)),
        ("currency with a space", [0x05, 0x02, 0x00] + Array("US ".utf8)),
        ("currency not ASCII", [0x05, 0x02, 0x00, 0xC3, 0x84, 0x41]),
        ("29 February 2023", [0x06, 0xCE, 0x1F, 0x02, 0x1D]),
        ("month 13", [0x06, 0xD0, 0x1F, 0x0D, 0x01]),
        ("month 0", [0x06, 0xD0, 0x1F, 0x00, 0x01]),
        ("day 0", [0x06, 0xD0, 0x1F, 0x01, 0x00]),
        ("31 April", [0x06, 0xD0, 0x1F, 0x04, 0x1F]),
        ("29 February 1900", [0x06, 0xD8, 0x1D, 0x02, 0x1D]),
        ("year 0", [0x06, 0x00, 0x01, 0x01]),
        ("year -1", [0x06, 0x01, 0x01, 0x01]),
        ("year 10000", [0x06, 0xA0, 0x9C, 0x01, 0x01, 0x01]),
        ("year 2^31 (outside Int32)", [0x06, 0x80, 0x80, 0x80, 0x80, 0x10, 0x01, 0x01]),
        ("boolean byte 2", [0x03, 0x02]),
        ("boolean byte 0xFF", [0x03, 0xFF]),
        ("enumeration not UTF-8", [0x08, 0x01, 0xFF]),
        ("value kind 10", [0x0A]),
        ("value kind 0x80", [0x80]),
    ]

    @Test("the decoder refuses invalid values as malformed", arguments: malformedValues)
    func malformedValue(label: String, value: [UInt8]) {
        let error = wireError { () throws(WireError) in try OperationCodec.decode(Self.setValue(value)) }
        #expect(error?.code == .malformed, "\(label): \(String(describing: error))")
        // The same bytes stored alone (a field column) are refused the same way.
        #expect(
            wireError { () throws(WireError) in try StorageCoding.decodeValue(value) }?.code == .malformed,
            "\(label)"
        )
    }

    @Test("29 February 2000 and 2024 are valid (the leap-year rule, not just year % 4)")
    func leapDays() throws {
        // 2000: zigzag 4000 = 0x20 + 0x1F·2^7
        let y2000 = try OperationCodec.decode(Self.setValue([0x06, 0xA0, 0x1F, 0x02, 0x1D]))
        #expect(
            y2000.first?.kind
                == .set(FieldKey(.joint, "a"), .date(CalendarDate(year: 2000, month: 2, day: 29)!), .private, preds: [])
        )
        #expect(try OperationCodec.decode(Self.setValue([0x06, 0xD0, 0x1F, 0x02, 0x1D])).count == 1)
    }

    @Test("an archive flag other than 0 or 1 is malformed", arguments: [UInt8(2), 0x80, 0xFF])
    func archiveFlag(flag: UInt8) {
        let error = wireError { () throws(WireError) in try OperationCodec.decode(Self.single(0x05, [flag])) }
        #expect(error?.code == .malformed)
    }

    @Test(
        "unknown operation kinds are malformed, with or without the writer flag",
        arguments: [UInt8(0), 8, 9, 0x7F, 0x80, 0x88, 0xFF]
    )
    func unknownKinds(kind: UInt8) {
        // With the flag set the writer comes first, so give it one: the refusal must be about the kind.
        let tail = (kind & 0x80 != 0 ? Self.low : []) + [0x00, 0x01, 0x61, 0x00, 0x00, 0x00]
        let error = wireError { () throws(WireError) in try OperationCodec.decode(Self.single(kind, tail)) }
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("unknown operation kind") == true, "\(String(describing: error))")
    }

    @Test("lists over their limits are refused: 256 predecessors or observed adds, 64 visibility companies")
    func listsOverTheLimit() throws {
        var rng = SplitMix64(seed: 64)
        let limit = Operation.maxTimestampList
        let full = (0..<limit).map { _ in Timestamp(physical: rng.next() >> 8, counter: 0, replica: rng.replica()) }
        let over = full + [Timestamp(physical: 1, counter: 1, replica: rng.replica())]
        func decodeError(_ kind: Operation.Kind) -> WireError? {
            let operation = Operation(object: Self.object, timestamp: Self.stamp(1), kind: kind)
            return wireError { () throws(WireError) in try OperationCodec.decode(OperationCodec.encode([operation])) }
        }
        #expect(limit == 256)
        #expect(decodeError(.set(FieldKey(.joint, "a"), .null, .participants, preds: full)) == nil)
        #expect(decodeError(.set(FieldKey(.joint, "a"), .null, .participants, preds: over))?.code == .tooLarge)
        #expect(decodeError(.removeElement(FieldKey(.joint, "s"), "x", observed: full, .participants)) == nil)
        #expect(
            decodeError(.removeElement(FieldKey(.joint, "s"), "x", observed: over, .participants))?.code == .tooLarge
        )
        // Validation refuses what the decoder would refuse, so a replica never emits an undecodable envelope.
        let writer = CompanyID(raw: ID128(high: 1, low: 1))
        let later = Timestamp(physical: UInt64.max, counter: 0, replica: rng.replica())
        #expect(
            Operation(
                object: Self.object,
                timestamp: later,
                kind: .set(FieldKey(.joint, "a"), .null, .participants, preds: over)
            ).validate(author: writer) != nil
        )
        #expect(
            Operation(
                object: Self.object,
                timestamp: later,
                kind: .set(FieldKey(.joint, "a"), .null, .participants, preds: full)
            ).validate(author: writer) == nil
        )
        // A write cannot have seen a write newer than itself (it would supersede itself and leave no head).
        #expect(
            Operation(
                object: Self.object,
                timestamp: Self.stamp(1),
                kind: .set(FieldKey(.joint, "a"), .null, .participants, preds: full)
            ).validate(author: writer) != nil
        )
        // A huge count is refused before anything is read or allocated for it.
        let hugePreds = Self.single(0x03, [0x00, 0x01, 0x61, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(hugePreds) }?.code == .tooLarge)
        let observed257 = Self.single(0x07, [0x00, 0x01, 0x73, 0x01, 0x78, 0x01, 0x81, 0x02])
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(observed257) }?.code == .tooLarge)
        let visibility65 = Self.single(0x06, [0x00, 0x01, 0x73, 0x01, 0x78, 0x02, 0x41])
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(visibility65) }?.code == .tooLarge)
    }

    @Test("set elements and enumeration values are limited to 1024 bytes")
    func elementLimits() {
        func decodeError(_ kind: Operation.Kind) -> WireError? {
            let operation = Operation(object: Self.object, timestamp: Self.stamp(1), kind: kind)
            return wireError { () throws(WireError) in try OperationCodec.decode(OperationCodec.encode([operation])) }
        }
        let limit = String(repeating: "e", count: 1024)
        let over = limit + "e"
        #expect(decodeError(.addElement(FieldKey(.joint, "s"), limit, .participants)) == nil)
        #expect(decodeError(.addElement(FieldKey(.joint, "s"), over, .participants))?.code == .tooLarge)
        #expect(decodeError(.removeElement(FieldKey(.joint, "s"), limit, observed: [], .participants)) == nil)
        #expect(
            decodeError(.removeElement(FieldKey(.joint, "s"), over, observed: [], .participants))?.code == .tooLarge
        )
        #expect(decodeError(.set(FieldKey(.joint, "e"), .enumeration(limit), .participants, preds: [])) == nil)
        #expect(
            decodeError(.set(FieldKey(.joint, "e"), .enumeration(over), .participants, preds: []))?.code == .tooLarge
        )
    }

    /// What a replica accepts from its own user must be decodable by its partners, or the envelope carrying
    /// it is refused whole by every recipient.
    @Test(
        "every operation that Operation.validate accepts stays within the decoder's limits"
    )
    func validatedOperationsDecode() {
        let author = Self.companyLow
        let kinds: [Operation.Kind] = [
            .set(FieldKey(.joint, "e"), .enumeration(String(repeating: "e", count: 1025)), .participants, preds: []),
            .set(
                FieldKey(.joint, "s"),
                .string(String(repeating: "s", count: OperationCodec.maxStringBytes + 1)),
                .participants,
                preds: []
            ),
            .removeElement(
                FieldKey(.joint, "t"),
                String(repeating: "x", count: 1025),
                observed: [Self.stamp(1)],
                .participants
            ),
        ]
        for kind in kinds {
            let operation = Operation(object: Self.object, timestamp: Self.stamp(2), kind: kind)
            let accepted = operation.validate(author: author) == nil
            let decodes =
                wireError { () throws(WireError) in try OperationCodec.decode(OperationCodec.encode([operation])) }
                == nil
            #expect(!accepted || decodes, "validate accepted an operation partners cannot decode")
        }
    }

    // MARK: hostile input

    /// A batch holding every operation kind (with and without writers) and every value kind.
    static func richBatch() -> [Operation] {
        var operations: [Operation] = []
        var physical: UInt64 = 1_000
        func next() -> Timestamp {
            physical += 1
            return stamp(physical)
        }
        for (_, _, kind) in kinds {
            operations.append(Operation(object: object, timestamp: next(), kind: kind))
            operations.append(Operation(object: object, timestamp: next(), kind: kind, writer: companyHigh))
        }
        for (value, _) in valueVectors {
            operations.append(
                Operation(
                    object: object,
                    timestamp: next(),
                    kind: .set(
                        FieldKey(.company(companyLow), "v"),
                        value,
                        .companies([companyHigh]),
                        preds: [stamp(7), stamp(8, 1, otherReplica)]
                    )
                )
            )
        }
        return operations
    }

    @Test("every strict prefix of a batch with every kind throws .truncated; the whole batch decodes")
    func everyPrefixOfARichBatchThrows() throws {
        let operations = Self.richBatch()
        let encoded = OperationCodec.encode(operations)
        let decoded = try OperationCodec.decode(encoded)
        let same = decoded == operations
        #expect(same)
        var failures: [Int] = []
        for length in 0..<encoded.count {
            let error = wireError { () throws(WireError) in try OperationCodec.decode(Array(encoded[..<length])) }
            if error?.code != .truncated { failures.append(length) }
        }
        #expect(failures.isEmpty, "prefixes that did not throw .truncated: \(failures.prefix(20))")
    }

    @Test("random bodies after every kind byte never trap; whatever decodes re-encodes to the same operations")
    func fuzzEveryKind() {
        var rng = SplitMix64(seed: 0xBEEF)
        let richBytes = OperationCodec.encode(Self.richBatch())
        var decodedCount = 0
        var mismatches = 0
        for round in 0..<6_000 {
            var input: [UInt8]
            switch round % 3 {
            case 0:
                // Every kind byte, flagged or not, followed by a valid-looking object and timestamp and random bytes.
                let kind = UInt8(rng.int(1...7)) | (rng.chance(50) ? 0x80 : 0)
                input = Self.single(kind, rng.bytes(rng.int(0...90)))
            case 1:
                // A set whose value tag is each kind, followed by random payload bytes.
                input = Self.single(0x03, [0x00, 0x01, 0x61, UInt8(rng.int(0...10))] + rng.bytes(rng.int(0...30)))
            default:
                // The rich batch with a few bytes changed, inserted or dropped.
                input = richBytes
                for _ in 0..<rng.int(1...3) {
                    let index = rng.int(0...(input.count - 1))
                    switch rng.int(0...2) {
                    case 0: input[index] = UInt8.random(in: 0...255, using: &rng)
                    case 1: input.insert(UInt8.random(in: 0...255, using: &rng), at: index)
                    default: input.remove(at: index)
                    }
                }
            }
            if let operations = try? OperationCodec.decode(input) {
                decodedCount += 1
                if (try? OperationCodec.decode(OperationCodec.encode(operations))) != operations { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(decodedCount > 0)
    }
}
