import EntenteCore
import EntenteTestSupport
import Testing

@testable import EntenteWire

/// Batch version 2 (`Specs/envelope.md`, "Compact batches"): tables of strings and ids, flags for a repeated
/// object or replica, clock differences.
@Suite("OperationCodec: compact batches (version 2)")
struct CompactBatchTests {
    static let object = ObjectID(raw: ID128(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10))
    static let replica = ReplicaID(raw: ID128(high: 0xAAAA_AAAA_AAAA_AAAA, low: 0xAAAA_AAAA_AAAA_AAAA))
    static let company = CompanyID(raw: ID128(high: 0x1111_1111_1111_1111, low: 0x1111_1111_1111_1111))

    /// Hand-assembled bytes for a create, a joint set and another company's field with a predecessor: pins
    /// the layout.
    @Test("a hand-built batch decodes, and encoding reproduces it byte for byte")
    func goldenVector() throws {
        let nonce = [UInt8](repeating: 0x5A, count: 16)
        let amount = try #require(DecimalNumber(significand: 125, scale: 1))
        let operations = [
            Operation(
                object: Self.object,
                timestamp: Timestamp(physical: 1000, counter: 0, replica: Self.replica),
                kind: .create(type: "opportunity", nonce: nonce)
            ),
            Operation(
                object: Self.object,
                timestamp: Timestamp(physical: 1000, counter: 1, replica: Self.replica),
                kind: .set(FieldKey(.joint, "stage"), .enumeration("qualified"), .participants, preds: [])
            ),
            Operation(
                object: Self.object,
                timestamp: Timestamp(physical: 999, counter: 5, replica: Self.replica),
                kind: .set(
                    FieldKey(.company(Self.company), "amount"),
                    .money(Money(amount: amount, currency: try #require(CurrencyCode("USD")))),
                    .companies([Self.company]),
                    preds: [Timestamp(physical: 1000, counter: 0, replica: Self.replica)]
                ),
                writer: Self.company
            ),
        ]
        var expected: [UInt8] = [0x02]  // version 2
        expected += [0x05]  // five strings, in order of first use
        for text in ["opportunity", "stage", "qualified", "amount", "USD"] {
            expected += [UInt8(text.utf8.count)] + Array(text.utf8)
        }
        expected += [0x03] + Self.object.bytes + Self.replica.bytes + Self.company.bytes  // ids 0, 1, 2
        expected += [0x03]  // three operations
        // create (1) | new object | new replica; object 0, replica 1; physical +1000 (zigzag 2000), counter +0;
        // type: string 0; nonce
        expected += [0x31, 0x00, 0x01, 0xD0, 0x0F, 0x00, 0x00] + nonce
        // set (3), same object and replica; physical +0, counter +1 (zigzag 2); joint, name 1; enumeration,
        // string 2; participants; no predecessors
        expected += [0x03, 0x00, 0x02, 0x00, 0x01, 0x08, 0x02, 0x01, 0x00]
        // set | writer; physical -1 (zigzag 1), counter +4 (zigzag 8); writer id 2; namespace of id 2, name 3;
        // money 12.5 (zigzag 250, scale 1), currency string 4; companies {id 2}; one predecessor: replica 1,
        // physical +1000 and counter +0 from the start of the predecessor sequence
        expected += [0x0B, 0x01, 0x08, 0x02, 0x01, 0x02, 0x03, 0x05, 0xFA, 0x01, 0x01, 0x04, 0x02, 0x01, 0x02]
        expected += [0x01, 0x01, 0xD0, 0x0F, 0x00]

        #expect(OperationCodec.encode(operations) == expected)
        #expect(try OperationCodec.decode(expected) == operations)
    }

    @Test("random batches of every kind round-trip in both versions", arguments: [UInt64(21), 22, 23])
    func randomRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<40 {
            let operations = rng.operations(count: rng.int(0...40))
            for version in OperationCodec.readableVersions {
                let encoded = OperationCodec.encode(operations, version: version)
                #expect(encoded.first == UInt8(version))
                #expect(try OperationCodec.decode(encoded) == operations)
            }
        }
    }

    /// The W2 shape: three fields changed on each of many records, each superseding an earlier write.
    static func delta(records: Int) -> [Operation] {
        var operations: [Operation] = []
        for record in 0..<records {
            let object = ObjectID(raw: ID128(high: 0x77, low: UInt64(record)))
            for (index, name) in ["stage", "amount", "probability"].enumerated() {
                let value: Value =
                    switch index {
                    case 0: .enumeration(["qualified", "proposal", "negotiation"][record % 3])
                    case 1: .money(Money(amount: DecimalNumber(significand: Int64(10_000 + record * 37), scale: 0)!, currency: CurrencyCode("EUR")!))
                    default: .integer(Int64(record % 100))
                    }
                operations.append(
                    Operation(
                        object: object,
                        timestamp: Timestamp(physical: 1_800_000_500_000, counter: UInt32(record * 3 + index), replica: replica),
                        kind: .set(
                            FieldKey(index == 0 ? .joint : .company(company), name),
                            value,
                            index == 0 ? .participants : .companies([company]),
                            preds: [Timestamp(physical: 1_800_000_000_000, counter: UInt32(record * 20 + index), replica: replica)]
                        )
                    )
                )
            }
        }
        return operations
    }

    @Test("a delta of three fields on a thousand records takes under a third of version 1")
    func compactness() throws {
        let operations = Self.delta(records: 1000)
        let compact = OperationCodec.encode(operations)
        let full = OperationCodec.encode(operations, version: 1)
        let perField = Double(compact.count) / Double(operations.count)
        #expect(compact.count * 3 < full.count, "version 2: \(compact.count) bytes, version 1: \(full.count)")
        #expect(perField < 24, "\(perField) bytes per changed field")
        #expect(try OperationCodec.decode(compact) == operations)
    }

    @Test("references outside the tables, missing first object or replica, and unknown bits are malformed")
    func hostileReferences() throws {
        let operation = Operation(
            object: Self.object,
            timestamp: Timestamp(physical: 5, counter: 0, replica: Self.replica),
            kind: .set(FieldKey(.joint, "stage"), .enumeration("won"), .participants, preds: [])
        )
        let good = OperationCodec.encode([operation])
        // version, 2 strings ("stage", "won"), 2 ids, count, then: head, object 0, replica 1, clock (2 bytes),
        // namespace, name ref, value kind, value ref, visibility, preds.
        let head = 1 + 1 + 6 + 4 + 1 + 32 + 1
        #expect(Array(good[head...]) == [0x33, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x00, 0x08, 0x01, 0x01, 0x00])
        func decoding(_ change: (inout [UInt8]) -> Void) -> WireError? {
            var bytes = good
            change(&bytes)
            return wireError { () throws(WireError) in try OperationCodec.decode(bytes) }
        }
        #expect(decoding { $0[head + 1] = 2 }?.message.contains("refers to id 2 of a table of 2") == true)
        #expect(decoding { $0[head + 6] = 2 }?.message.contains("refers to string 2 of a table of 2") == true)
        #expect(decoding { $0[head] = 0x23 }?.message.contains("does not name its object") == true)
        #expect(decoding { $0[head] = 0x13 }?.code == .malformed)
        #expect(decoding { $0[head] = 0x73 }?.message.contains("unknown bits") == true)
        #expect(decoding { $0[head] = 0x30 }?.message.contains("unknown operation kind") == true)
        // A counter difference that leaves 0...2^32-1.
        #expect(decoding { $0[head + 4] = 0x01 }?.message.contains("counter") == true)
        // A table string used where a shorter limit applies (a currency of four letters).
        let money = Operation(
            object: Self.object,
            timestamp: Timestamp(physical: 5, counter: 0, replica: Self.replica),
            kind: .set(FieldKey(.joint, "EURO"), .money(Money(amount: DecimalNumber(significand: 1, scale: 0)!, currency: CurrencyCode("EUR")!)), .participants, preds: [])
        )
        var bytes = OperationCodec.encode([money])
        // The money's currency refers to string 1 ("EUR"); point it at string 0 ("EURO").
        let currency = try #require(bytes.lastIndex(of: 0x01).map { $0 - 1 })
        #expect(bytes[currency] == 0x01)
        bytes[currency] = 0x00
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(bytes) }?.code == .tooLarge)
    }

    @Test("table counts beyond the input are truncations; beyond the limit, too large")
    func tableCounts() {
        #expect(wireError { () throws(WireError) in try OperationCodec.decode([0x02, 0x05, 0x01]) }?.code == .truncated)
        #expect(
            wireError { () throws(WireError) in try OperationCodec.decode([0x02, 0x00, 0x02] + [UInt8](repeating: 1, count: 31)) }?
                .code == .truncated
        )
        var huge = ByteWriter()
        huge.writeVarint(2)
        huge.writeVarint(UInt64(OperationCodec.maxTableEntries) + 1)
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(huge.bytes) }?.code == .tooLarge)
    }
}
