import EntenteCore

/// Batch version 2, the compact layout (`Specs/envelope.md`, "Compact batches"): every string and every 16-byte
/// id appears once, in a table at the head of the batch, and operations refer to them by index; an operation
/// on the same object, or by the same replica, as the one before it says so with a bit instead of repeating it;
/// timestamps are differences from the previous one. A delta that changes three fields of a thousand records
/// thus costs about a fifth of version 1.
extension OperationCodec {
    /// Most entries in a version 2 string or id table.
    public static let maxTableEntries = 4 * maxOperations

    enum Compact {
        static let kindMask: UInt8 = 0x07
        static let hasWriter: UInt8 = 0x08
        static let newObject: UInt8 = 0x10
        static let newReplica: UInt8 = 0x20
        /// The timestamp is the previous one's next counter step (same physical time): no clock follows.
        static let nextTick: UInt8 = 0x40
        /// The predecessor (or observed) list is one timestamp of this operation's replica: only its clock
        /// follows, no count and no replica ref.
        static let ownPredecessor: UInt8 = 0x80
    }

    /// Writes version 2.
    struct CompactEncoder {
        private var strings = Table<String>()
        private var ids = Table<ID128>()
        private var body: ByteWriter
        private var previousObject: ObjectID?
        private var previousReplica: ReplicaID?
        private var clock = DeltaClock()
        private var listClock = DeltaClock()

        init(capacity: Int) { body = ByteWriter(capacity: capacity) }

        static func encode(_ operations: [Operation]) -> [UInt8] {
            // A first pass counts how often each string and id is referred to; the tables then list the most used
            // first, so that field names and repeated values take one-byte refs however many rare strings follow.
            var counting = CompactEncoder(capacity: operations.count * 16)
            for operation in operations { counting.encode(operation) }
            var encoder = CompactEncoder(capacity: counting.body.bytes.count)
            encoder.strings = counting.strings.byUse()
            encoder.ids = counting.ids.byUse()
            for operation in operations { encoder.encode(operation) }
            let ids = encoder.ids.entries
            var writer = ByteWriter(capacity: encoder.body.bytes.count + ids.count * 16 + 64)
            writer.writeVarint(2)
            writer.writeVarint(UInt64(encoder.strings.entries.count))
            for text in encoder.strings.entries { writer.writeString(text) }
            writer.writeVarint(UInt64(ids.count))
            for id in ids { writer.write(id.bytes) }
            writer.writeVarint(UInt64(operations.count))
            writer.write(encoder.body.bytes)
            return writer.bytes
        }

        private mutating func string(_ text: String) {
            body.writeVarint(UInt64(strings.index(of: text)))
        }

        private mutating func id(_ id: ID128) {
            body.writeVarint(UInt64(ids.index(of: id)))
        }

        private mutating func encode(_ operation: Operation) {
            var head = OperationCodec.tag(of: operation.kind)
            if operation.writer != nil { head |= Compact.hasWriter }
            let isNewObject = operation.object != previousObject
            let isNewReplica = operation.timestamp.replica != previousReplica
            let isNextTick = clock.isNextTick(operation.timestamp)
            let ownList = Self.ownList(of: operation)
            if isNewObject { head |= Compact.newObject }
            if isNewReplica { head |= Compact.newReplica }
            if isNextTick { head |= Compact.nextTick }
            if ownList { head |= Compact.ownPredecessor }
            body.write(head)
            if isNewObject { id(operation.object.raw) }
            if isNewReplica { id(operation.timestamp.replica.raw) }
            if isNextTick { clock.advance() } else { clock.write(operation.timestamp, into: &body) }
            if let writer = operation.writer { id(writer.raw) }
            previousObject = operation.object
            previousReplica = operation.timestamp.replica
            switch operation.kind {
            case .create(let type, let nonce):
                string(type)
                body.write(nonce)
            case .addParticipant(let company), .removeParticipant(let company):
                id(company.raw)
            case .archive(let flag):
                body.write(flag ? 1 : 0)
            case .set(let key, let value, let visibility, let preds):
                encode(key)
                encode(value)
                encode(visibility)
                encode(preds, own: ownList)
            case .addElement(let key, let element, let visibility):
                encode(key)
                string(element)
                encode(visibility)
            case .removeElement(let key, let element, let observed, let visibility):
                encode(key)
                string(element)
                encode(visibility)
                encode(observed, own: ownList)
            }
        }

        /// True if the operation's predecessor (or observed) list is one timestamp by its own replica, the usual
        /// case: an edit superseding the replica's own earlier write.
        private static func ownList(of operation: Operation) -> Bool {
            switch operation.kind {
            case .set(_, _, _, let list), .removeElement(_, _, let list, _):
                list.count == 1 && list[0].replica == operation.timestamp.replica
            default: false
            }
        }

        private mutating func encode(_ key: FieldKey) {
            switch key.namespace {
            case .joint: body.writeVarint(0)
            case .company(let company):
                body.writeVarint(1)
                id(company.raw)
            }
            string(key.name)
        }

        private mutating func encode(_ visibility: Visibility) {
            let (tag, members) = OperationCodec.parts(of: visibility)
            body.write(tag)
            guard let members else { return }
            body.writeVarint(UInt64(members.count))
            for company in members { id(company.raw) }
        }

        private mutating func encode(_ timestamps: [Timestamp], own: Bool) {
            if own {
                listClock.write(timestamps[0], into: &body)
                return
            }
            body.writeVarint(UInt64(timestamps.count))
            for timestamp in timestamps {
                id(timestamp.replica.raw)
                listClock.write(timestamp, into: &body)
            }
        }

        private mutating func encode(_ value: Value) {
            switch value {
            case .string(let text), .enumeration(let text):
                body.write(value.kindTag)
                string(text)
            case .money(let money):
                body.write(value.kindTag)
                OperationCodec.encode(money.amount, into: &body)
                string(money.currency.code)
            case .reference(let object):
                body.write(value.kindTag)
                id(object.raw)
            case .null, .integer, .boolean, .decimal, .date, .timestamp:
                OperationCodec.encode(value, into: &body)
            }
        }
    }

    /// The entries of a string or id table, in order of first use, with how often each was asked for.
    struct Table<Entry: Hashable> {
        private(set) var entries: [Entry] = []
        private var positions: [Entry: Int] = [:]
        private var uses: [Int] = []

        /// The entry's position, added at the end on first use.
        mutating func index(of entry: Entry) -> Int {
            if let position = positions[entry] {
                uses[position] += 1
                return position
            }
            positions[entry] = entries.count
            entries.append(entry)
            uses.append(1)
            return entries.count - 1
        }

        /// The same entries, most used first (ties in order of first use): a deterministic order.
        func byUse() -> Table {
            var table = Table()
            for position in entries.indices.sorted(by: { (uses[$0], $1) > (uses[$1], $0) }) {
                _ = table.index(of: entries[position])
            }
            return table
        }
    }

    /// The previous timestamp of a sequence: the next one is written as its differences from it.
    struct DeltaClock {
        private var physical: UInt64 = 0
        private var counter: UInt32 = 0

        /// True if `timestamp` is the previous one's next counter step, at the same physical time.
        func isNextTick(_ timestamp: Timestamp) -> Bool {
            timestamp.physical == physical && counter < UInt32.max && timestamp.counter == counter + 1
        }

        /// Steps to the next counter value (the encoder checked `isNextTick`).
        mutating func advance() { counter += 1 }

        /// Reads a `nextTick` timestamp: the previous one's next counter step.
        mutating func next(_ reader: ByteReader, replica: ReplicaID) throws(WireError) -> Timestamp {
            guard counter < UInt32.max else { throw reader.malformed("timestamp counter is outside 0...\(UInt32.max)") }
            counter += 1
            return Timestamp(physical: physical, counter: counter, replica: replica)
        }

        mutating func write(_ timestamp: Timestamp, into writer: inout ByteWriter) {
            writer.writeSignedVarint(Int64(bitPattern: timestamp.physical &- physical))
            writer.writeSignedVarint(Int64(timestamp.counter) - Int64(counter))
            physical = timestamp.physical
            counter = timestamp.counter
        }

        mutating func read(_ reader: inout ByteReader, replica: ReplicaID) throws(WireError) -> Timestamp {
            let next = physical &+ UInt64(bitPattern: try reader.readSignedVarint("timestamp difference"))
            let difference = try reader.readSignedVarint("counter difference")
            let (sum, overflow) = Int64(counter).addingReportingOverflow(difference)
            guard !overflow, let nextCounter = UInt32(exactly: sum) else {
                throw reader.malformed("timestamp counter is outside 0...\(UInt32.max)")
            }
            physical = next
            counter = nextCounter
            return Timestamp(physical: next, counter: nextCounter, replica: replica)
        }
    }

    /// Reads version 2 (after the version number).
    struct CompactDecoder {
        private var reader: ByteReader
        private var strings: [String] = []
        private var ids: [ID128] = []
        private var previousObject: ObjectID?
        private var previousReplica: ReplicaID?
        private var clock = DeltaClock()
        private var listClock = DeltaClock()

        init(_ reader: ByteReader) { self.reader = reader }

        mutating func decode() throws(WireError) -> [Operation] {
            // Each table entry takes at least one byte (a string) or 16 (an id): a count the rest of the input
            // cannot hold is a truncation, found before anything is allocated for it.
            let stringCount = try reader.readCount("string count", limit: maxTableEntries)
            guard stringCount <= reader.remaining else { throw reader.truncated("the string table") }
            strings.reserveCapacity(stringCount)
            for _ in 0..<stringCount {
                strings.append(try reader.readString("table string", maxBytes: Operation.maxStringBytes))
            }
            let idCount = try reader.readCount("id count", limit: maxTableEntries)
            guard idCount <= reader.remaining / ID128.byteCount else { throw reader.truncated("the id table") }
            ids.reserveCapacity(idCount)
            for _ in 0..<idCount {
                guard let id = ID128(bytes: try reader.readBytes(ID128.byteCount, "table id")) else {
                    throw reader.malformed("table id is not 16 bytes")
                }
                ids.append(id)
            }
            let count = try reader.readCount("operation count", limit: maxOperations)
            var operations = [Operation]()
            operations.reserveCapacity(min(count, reader.remaining / 4))
            for _ in 0..<count { operations.append(try decodeOperation()) }
            guard reader.isAtEnd else {
                throw reader.malformed("\(reader.remaining) unexpected bytes after the last operation")
            }
            return operations
        }

        private mutating func string(_ field: String, maxBytes: Int) throws(WireError) -> String {
            let index = try reader.readVarint(field)
            guard index < UInt64(strings.count) else {
                throw reader.malformed("\(field) refers to string \(index) of a table of \(strings.count)")
            }
            let text = strings[Int(index)]
            guard text.utf8.count <= maxBytes else {
                throw WireError(.tooLarge, "operation batch: \(field) is over \(maxBytes) bytes")
            }
            return text
        }

        private mutating func id(_ field: String) throws(WireError) -> ID128 {
            try Self.entry(of: ids, &reader, field)
        }

        /// The id a reference read from `reader` points to.
        private static func entry(
            of table: [ID128],
            _ reader: inout ByteReader,
            _ field: String
        ) throws(WireError) -> ID128 {
            let index = try reader.readVarint(field)
            guard index < UInt64(table.count) else {
                throw reader.malformed("\(field) refers to id \(index) of a table of \(table.count)")
            }
            return table[Int(index)]
        }

        private mutating func decodeOperation() throws(WireError) -> Operation {
            // Every bit of the head has a meaning; the kind bits are checked below.
            let head = try reader.readByte("operation head")
            let kindTag = head & Compact.kindMask
            let ownList = head & Compact.ownPredecessor != 0
            guard !ownList || kindTag == Tag.set || kindTag == Tag.removeElement else {
                throw reader.malformed("operation head \(head) gives a predecessor to an operation that has none")
            }
            let object: ObjectID
            if head & Compact.newObject != 0 {
                object = ObjectID(raw: try id("object"))
            } else if let previousObject {
                object = previousObject
            } else {
                throw reader.malformed("the first operation does not name its object")
            }
            let replica: ReplicaID
            if head & Compact.newReplica != 0 {
                replica = ReplicaID(raw: try id("timestamp replica"))
            } else if let previousReplica {
                replica = previousReplica
            } else {
                throw reader.malformed("the first operation does not name its replica")
            }
            let timestamp =
                head & Compact.nextTick != 0
                ? try clock.next(reader, replica: replica) : try clock.read(&reader, replica: replica)
            let writer = head & Compact.hasWriter != 0 ? CompanyID(raw: try id("writer")) : nil
            previousObject = object
            previousReplica = replica
            let kind: Operation.Kind
            switch kindTag {
            case Tag.create:
                let type = try string("object type", maxBytes: Operation.maxTypeBytes)
                kind = .create(type: type, nonce: try reader.readBytes(Derivation.nonceByteCount, "create nonce"))
            case Tag.addParticipant:
                kind = .addParticipant(CompanyID(raw: try id("participant")))
            case Tag.removeParticipant:
                kind = .removeParticipant(CompanyID(raw: try id("participant")))
            case Tag.archive:
                kind = .archive(try decodeBool(&reader, "archive flag"))
            case Tag.set:
                let key = try decodeKey()
                let value = try decodeValue()
                let visibility = try decodeVisibility()
                kind = .set(key, value, visibility, preds: try decodeTimestamps("predecessors", own: ownList, replica))
            case Tag.addElement:
                let key = try decodeKey()
                let element = try string("set element", maxBytes: Operation.maxElementBytes)
                kind = .addElement(key, element, try decodeVisibility())
            case Tag.removeElement:
                let key = try decodeKey()
                let element = try string("set element", maxBytes: Operation.maxElementBytes)
                let visibility = try decodeVisibility()
                let observed = try decodeTimestamps("observed adds", own: ownList, replica)
                kind = .removeElement(key, element, observed: observed, visibility)
            case let other:
                throw reader.malformed("unknown operation kind \(other)")
            }
            return Operation(object: object, timestamp: timestamp, kind: kind, writer: writer)
        }

        private mutating func decodeKey() throws(WireError) -> FieldKey {
            let namespace: Namespace
            switch try reader.readVarint("namespace") {
            case 0: namespace = .joint
            case 1: namespace = .company(CompanyID(raw: try id("namespace company")))
            case let other: throw reader.malformed("unknown namespace \(other)")
            }
            return FieldKey(namespace, try string("field name", maxBytes: FieldKey.maxNameBytes))
        }

        private mutating func decodeVisibility() throws(WireError) -> Visibility {
            let table = ids
            return try OperationCodec.decodeVisibility(&reader) { reader throws(WireError) in
                CompanyID(raw: try Self.entry(of: table, &reader, "visibility company"))
            }
        }

        private mutating func decodeTimestamps(
            _ what: String,
            own: Bool,
            _ replica: ReplicaID
        ) throws(WireError) -> [Timestamp] {
            if own { return [try listClock.read(&reader, replica: replica)] }
            let count = try reader.readCount("\(what) count", limit: Operation.maxTimestampList)
            var result: [Timestamp] = []
            result.reserveCapacity(count)
            for _ in 0..<count {
                let replica = ReplicaID(raw: try id("\(what) replica"))
                result.append(try listClock.read(&reader, replica: replica))
            }
            return result
        }

        private mutating func decodeValue() throws(WireError) -> Value {
            var peek = reader
            switch try peek.readByte("value kind") {
            case 1:
                reader = peek
                return .string(try string("string value", maxBytes: maxStringBytes))
            case 8:
                reader = peek
                return .enumeration(try string("enumeration value", maxBytes: Operation.maxElementBytes))
            case 9:
                reader = peek
                return .reference(ObjectID(raw: try id("reference")))
            case 5:
                reader = peek
                let amount = try decodeDecimal(&reader)
                let code = try string("currency", maxBytes: 3)
                guard code.utf8.count == 3, code.utf8.allSatisfy({ (65...90).contains($0) }),
                    let currency = CurrencyCode(code)
                else { throw reader.malformed("currency is not three upper-case letters") }
                return .money(Money(amount: amount, currency: currency))
            default:
                return try OperationCodec.decodeValue(&reader)
            }
        }
    }
}
