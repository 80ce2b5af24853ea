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

    /// Hand-assembled bytes for a create, a joint set, another company's field superseding its own replica's
    /// write, and a set with two predecessors: pins the layout, the table order and both shortcut flags.
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
            Operation(
                object: Self.object,
                timestamp: Timestamp(physical: 999, counter: 6, replica: Self.replica),
                kind: .set(
                    FieldKey(.joint, "stage"),
                    .enumeration("qualified"),
                    .participants,
                    preds: [
                        Timestamp(physical: 1000, counter: 1, replica: Self.replica),
                        Timestamp(physical: 999, counter: 5, replica: Self.replica),
                    ]
                )
            ),
        ]
        var expected: [UInt8] = [0x02]  // version 2
        // Five strings, the most used first (stage and qualified twice), ties in order of first use.
        expected += [0x05]
        for text in ["stage", "qualified", "opportunity", "amount", "USD"] {
            expected += [UInt8(text.utf8.count)] + Array(text.utf8)
        }
        // Ids: the replica (3 uses) and the company (3), then the object (1).
        expected += [0x03] + Self.replica.bytes + Self.company.bytes + Self.object.bytes
        expected += [0x04]  // four operations
        // create (1) | new object | new replica; object 2, replica 0; physical +1000 (zigzag 2000), counter +0;
        // type: string 2; nonce
        expected += [0x31, 0x02, 0x00, 0xD0, 0x0F, 0x00, 0x02] + nonce
        // set (3) | next tick (no clock: 1000, counter 1); joint, name 0; enumeration, string 1; participants;
        // no predecessors
        expected += [0x43, 0x00, 0x00, 0x08, 0x01, 0x01, 0x00]
        // set | writer | own predecessor; physical -1 (zigzag 1), counter +4 (zigzag 8); writer id 1; namespace
        // of id 1, name 3; money 12.5 (zigzag 250, scale 1), currency string 4; companies {id 1}; the predecessor:
        // only its clock, physical +1000 and counter +0 from the start of the predecessor sequence
        expected += [0x8B, 0x01, 0x08, 0x01, 0x01, 0x01, 0x03, 0x05, 0xFA, 0x01, 0x01, 0x04, 0x02, 0x01, 0x01]
        expected += [0xD0, 0x0F, 0x00]
        // set | next tick (999, counter 6); joint, name 0; enumeration, string 1; participants; two predecessors:
        // replica 0, physical +0 and counter +1; replica 0, physical -1 and counter +4
        expected += [0x43, 0x00, 0x00, 0x08, 0x01, 0x01, 0x02, 0x00, 0x00, 0x02, 0x00, 0x01, 0x08]

        #expect(OperationCodec.encode(operations, version: 2) == expected)
        #expect(try OperationCodec.decode(expected) == operations)
    }

    @Test("next-tick clocks and own predecessors round-trip for sets and removes, and apply only where they fit")
    func shortcutFlags() throws {
        let other = ReplicaID(raw: ID128(high: 0xBB, low: 0xBB))
        func stamp(_ physical: UInt64, _ counter: UInt32, _ replica: ReplicaID = Self.replica) -> Timestamp {
            Timestamp(physical: physical, counter: counter, replica: replica)
        }
        let key = FieldKey(.joint, "tags")
        let operations = [
            Operation(object: Self.object, timestamp: stamp(7, UInt32.max), kind: .archive(true)),
            // After counter 2^32-1 the next stamp moves the physical time on: no next-tick flag.
            Operation(
                object: Self.object,
                timestamp: stamp(8, 0),
                kind: .removeElement(key, "hot", observed: [stamp(6, 3)], .participants)
            ),
            Operation(
                object: Self.object,
                timestamp: stamp(8, 1),
                kind: .removeElement(key, "cold", observed: [stamp(6, 4, other)], .participants)
            ),
            Operation(
                object: Self.object,
                timestamp: stamp(8, 2, other),
                kind: .set(FieldKey(.joint, "stage"), .string("won"), .participants, preds: [stamp(8, 1, other)])
            ),
        ]
        let encoded = OperationCodec.encode(operations, version: 2)
        #expect(try OperationCodec.decode(encoded) == operations)
        // Heads: the second operation is not a next tick (the counter was at its maximum) but its observed add is
        // its own replica's; the third is a next tick whose observed add is another replica's; the fourth is a
        // next tick by a new replica, superseding that replica's own write.
        let heads = try Self.heads(of: encoded, operationCount: 4)
        #expect(heads[1] & 0xC0 == 0x80)
        #expect(heads[2] & 0xC0 == 0x40)
        #expect(heads[3] & 0xC0 == 0xC0)
    }

    /// The head byte of each operation of a batch (fewer than 128 operations): each operation ends where the
    /// shortest prefix of the batch decodes with one more operation, and the next head follows.
    static func heads(of batch: [UInt8], operationCount: Int) throws -> [UInt8] {
        // The operations start after the tables; find each boundary as the shortest prefix that decodes with
        // one more operation (the count byte is rewritten to match).
        var reader = ByteReader(batch, what: "batch")
        _ = try reader.readVarint("version")
        let strings = try reader.readVarint("strings")
        for _ in 0..<strings { _ = try reader.readString("string", maxBytes: 1 << 20) }
        let ids = try reader.readVarint("ids")
        _ = try reader.readBytes(Int(ids) * 16, "ids")
        let countAt = batch.count - reader.remaining
        _ = try reader.readVarint("count")
        let start = batch.count - reader.remaining
        var heads: [UInt8] = []
        var position = start
        for index in 1...operationCount {
            heads.append(batch[position])
            guard index < operationCount else { break }
            var end = position + 1
            while end < batch.count {
                var prefix = Array(batch[..<end])
                prefix[countAt] = UInt8(index)
                if (try? OperationCodec.decode(prefix))?.count == index { break }
                end += 1
            }
            position = end
        }
        return heads
    }

    @Test("random batches of every kind round-trip in every version", arguments: [UInt64(21), 22, 23])
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

    @Test("a delta of three fields on a thousand records takes under a third of version 1, under 18 bytes a field")
    func compactness() throws {
        let operations = Self.delta(records: 1000)
        let compact = OperationCodec.encode(operations, version: 2)
        let full = OperationCodec.encode(operations, version: 1)
        let perField = Double(compact.count) / Double(operations.count)
        #expect(compact.count * 3 < full.count, "version 2: \(compact.count) bytes, version 1: \(full.count)")
        #expect(perField < 18, "\(perField) bytes per changed field")
        #expect(try OperationCodec.decode(compact) == operations)
    }

    @Test("references outside the tables, missing first object or replica, and unknown bits are malformed")
    func hostileReferences() throws {
        let operation = Operation(
            object: Self.object,
            timestamp: Timestamp(physical: 5, counter: 0, replica: Self.replica),
            kind: .set(FieldKey(.joint, "stage"), .enumeration("won"), .participants, preds: [])
        )
        let good = OperationCodec.encode([operation], version: 2)
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
        // A next tick on the first operation: physical 0, counter 1; the clock bytes then misparse.
        #expect(decoding { $0[head] = 0x73 }?.code == .malformed)
        #expect(decoding { $0[head] = 0x30 }?.message.contains("unknown operation kind") == true)
        // A counter difference that leaves 0...2^32-1.
        #expect(decoding { $0[head + 4] = 0x01 }?.message.contains("counter") == true)
        // A table string used where a shorter limit applies (a currency of four letters).
        let money = Operation(
            object: Self.object,
            timestamp: Timestamp(physical: 5, counter: 0, replica: Self.replica),
            kind: .set(FieldKey(.joint, "EURO"), .money(Money(amount: DecimalNumber(significand: 1, scale: 0)!, currency: CurrencyCode("EUR")!)), .participants, preds: [])
        )
        var bytes = OperationCodec.encode([money], version: 2)
        // The money's currency refers to string 1 ("EUR"); point it at string 0 ("EURO").
        let currency = try #require(bytes.lastIndex(of: 0x01).map { $0 - 1 })
        #expect(bytes[currency] == 0x01)
        bytes[currency] = 0x00
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(bytes) }?.code == .tooLarge)
    }

    @Test("an own-predecessor flag on an operation without predecessors, and a next tick past the counter's maximum, are malformed")
    func misplacedFlags() throws {
        let create = Operation(
            object: Self.object,
            timestamp: Timestamp(physical: 5, counter: UInt32.max, replica: Self.replica),
            kind: .create(type: "lead", nonce: [UInt8](repeating: 1, count: 16))
        )
        let good = OperationCodec.encode([create], version: 2)
        // version, 1 string ("lead"), 2 ids, count, then the head.
        let head = 1 + 1 + 5 + 1 + 32 + 1
        #expect(good[head] == 0x31)
        var owning = good
        owning[head] |= 0x80
        #expect(
            wireError { () throws(WireError) in try OperationCodec.decode(owning) }?.message
                .contains("gives a predecessor to an operation that has none") == true
        )
        // Two archives: the second flagged as the next tick of a timestamp whose counter is at its maximum.
        let archive = Operation(
            object: Self.object,
            timestamp: Timestamp(physical: 5, counter: UInt32.max, replica: Self.replica),
            kind: .archive(true)
        )
        var twice = OperationCodec.encode([archive, archive], version: 2)
        let second = try #require(twice.lastIndex(of: 0x05))
        #expect(twice[second] == 0x05 && twice[second + 1] == 0x00 && twice[second + 2] == 0x00)
        twice.replaceSubrange(second...(second + 2), with: [0x45])
        #expect(wireError { () throws(WireError) in try OperationCodec.decode(twice) }?.message.contains("counter") == true)
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
