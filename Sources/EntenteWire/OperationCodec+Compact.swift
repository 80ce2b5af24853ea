public import EntenteCore

/// Where an object was made: its owner, and the stamp of the operation that created it. A version 3 batch names
/// an object whose nonce derives from that stamp (`Derivation.nonce(created:)`) by the stamp, in a few bytes,
/// instead of its 16-byte id.
public struct ObjectOrigin: Hashable, Sendable {
    public let owner: CompanyID
    public let created: Timestamp

    public init(owner: CompanyID, created: Timestamp) {
        self.owner = owner
        self.created = created
    }
}

/// Batch versions 2 and 3, the compact layouts (`Specs/envelope.md`, "Compact batches" and "Version 3"): every
/// string and every 16-byte id appears once, in a table at the head of the batch, and operations refer to them by
/// index; an operation on the same object, or by the same replica, as the one before it says so with a bit
/// instead of repeating it; timestamps are differences from the previous one. Version 3 adds a table of field
/// slots, names objects by their creation stamps and front-codes its strings.
extension OperationCodec {
    /// Most entries in a string, id or slot table.
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

    /// A field's key and visibility: one entry of a version 3 slot table.
    struct Slot: Hashable {
        let key: FieldKey
        let visibility: Visibility
    }

    /// An object whose nonce derives from its creation stamp, with that nonce.
    struct Stamped {
        let origin: ObjectOrigin
        let nonce: [UInt8]
    }

    /// Writes versions 2 and 3.
    struct CompactEncoder {
        private let version: UInt64
        private let stamped: [ObjectID: Stamped]
        private var strings = Table<String>()
        private var ids = Table<ID128>()
        private var slots = Table<Slot>()
        private var body: ByteWriter
        private var previousObject: ObjectID?
        private var previousStamped = false
        private var previousReplica: ReplicaID?
        private var previousOwner: CompanyID?
        private var previousCreator: ReplicaID?
        private var clock = DeltaClock()
        private var listClock = DeltaClock()
        private var objectClock = DeltaClock()
        private var lookedUp: (object: ObjectID, stamp: Stamped?)?

        private init(version: UInt64, stamped: [ObjectID: Stamped], capacity: Int) {
            self.version = version
            self.stamped = stamped
            body = ByteWriter(capacity: capacity)
        }

        static func encode(_ operations: [Operation], version: UInt64, origins: [ObjectOrigin]) -> [UInt8] {
            var stamped: [ObjectID: Stamped] = [:]
            if version >= 3 {
                // Only an object whose id the stamp derives is named by it: an origin can never name another.
                for origin in origins {
                    let (id, nonce) = Derivation.objectID(owner: origin.owner, created: origin.created)
                    stamped[id] = Stamped(origin: origin, nonce: nonce)
                }
            }
            // A first pass counts how often each string, id and slot is referred to; the tables then list the most
            // used first, so that field names and repeated values take one-byte refs however many rare ones follow.
            var counting = CompactEncoder(version: version, stamped: stamped, capacity: operations.count * 16)
            for operation in operations { counting.encode(operation) }
            // A slot's name and companies count once each, however many operations use the slot.
            for slot in counting.slots.entries { counting.encode(slot) }
            var encoder = CompactEncoder(version: version, stamped: stamped, capacity: counting.body.bytes.count)
            // Version 3 front-codes its strings: ties in byte order put strings that share a prefix side by side.
            var stringBytes: [[UInt8]] = []
            if version >= 3 {
                (encoder.strings, stringBytes) = counting.strings.byUseInByteOrder()
            } else {
                encoder.strings = counting.strings.byUse()
            }
            encoder.ids = counting.ids.byUse()
            encoder.slots = counting.slots.byUse()
            if version >= 3 {
                encoder.body.writeVarint(UInt64(encoder.slots.entries.count))
                for slot in encoder.slots.entries { encoder.encode(slot) }
            }
            encoder.body.writeVarint(UInt64(operations.count))
            for operation in operations { encoder.encode(operation) }
            let ids = encoder.ids.entries
            var writer = ByteWriter(capacity: encoder.body.bytes.count + ids.count * 16 + 64)
            writer.writeVarint(version)
            writer.writeVarint(UInt64(encoder.strings.entries.count))
            if version >= 3 {
                var previous: [UInt8] = []
                for bytes in stringBytes {
                    let shared = zip(previous, bytes).prefix { $0 == $1 }.count
                    writer.writeVarint(UInt64(shared))
                    writer.writeVarint(UInt64(bytes.count - shared))
                    writer.write(bytes[shared...])
                    previous = bytes
                }
            } else {
                for text in encoder.strings.entries { writer.writeString(text) }
            }
            writer.writeVarint(UInt64(ids.count))
            for id in ids { writer.write(id.bytes) }
            writer.write(encoder.body.bytes)
            return writer.bytes
        }

        private mutating func string(_ text: String) {
            body.writeVarint(UInt64(strings.index(of: text)))
        }

        private mutating func id(_ id: ID128) {
            body.writeVarint(UInt64(ids.index(of: id)))
        }

        /// The slot of a field operation (version 3), as its table position.
        private mutating func slot(_ key: FieldKey, _ visibility: Visibility) -> UInt64 {
            UInt64(slots.index(of: Slot(key: key, visibility: visibility)))
        }

        /// The creation stamp that names the operation's object, if it has one: never for a create whose nonce
        /// is not the stamp's (it is then written in full, as the decoder would otherwise derive another).
        private mutating func stamp(of operation: Operation) -> Stamped? {
            // An object's operations come in a row: it is looked up once for them.
            if lookedUp?.object != operation.object { lookedUp = (operation.object, stamped[operation.object]) }
            guard let stamp = lookedUp?.stamp else { return nil }
            if case .create(_, let nonce) = operation.kind, nonce != stamp.nonce { return nil }
            return stamp
        }

        private mutating func encode(_ operation: Operation) {
            var head = OperationCodec.tag(of: operation.kind)
            if operation.writer != nil { head |= Compact.hasWriter }
            let stamp = stamp(of: operation)
            let isNewObject = operation.object != previousObject || (stamp != nil) != previousStamped
            let isNewReplica = operation.timestamp.replica != previousReplica
            let isNextTick = clock.isNextTick(operation.timestamp)
            let ownList = Self.ownList(of: operation)
            if isNewObject { head |= Compact.newObject }
            if isNewReplica { head |= Compact.newReplica }
            if isNextTick { head |= Compact.nextTick }
            if ownList { head |= Compact.ownPredecessor }
            body.write(head)
            if isNewObject { encodeObject(operation.object, stamp) }
            if isNewReplica { id(operation.timestamp.replica.raw) }
            if isNextTick { clock.advance() } else { clock.write(operation.timestamp, into: &body) }
            if let writer = operation.writer { id(writer.raw) }
            previousObject = operation.object
            previousStamped = stamp != nil
            previousReplica = operation.timestamp.replica
            switch operation.kind {
            case .create(let type, let nonce):
                string(type)
                if stamp == nil { body.write(nonce) }
            case .addParticipant(let company), .removeParticipant(let company):
                id(company.raw)
            case .archive(let flag):
                body.write(flag ? 1 : 0)
            case .set(let key, let value, let visibility, let preds):
                // Version 3: the slot and the value's kind in one varint; version 2: key, kind, value, visibility.
                if version >= 3 {
                    body.writeVarint(slot(key, visibility) << 4 | UInt64(value.kindTag))
                } else {
                    encode(key)
                    body.write(value.kindTag)
                }
                encodeBody(value)
                if version < 3 { encode(visibility) }
                encode(preds, own: ownList)
            case .addElement(let key, let element, let visibility):
                encodeElement(key, element, visibility)
            case .removeElement(let key, let element, let observed, let visibility):
                encodeElement(key, element, visibility)
                encode(observed, own: ownList)
            }
        }

        /// A set element operation's key, element and visibility: in version 3, the slot then the element.
        private mutating func encodeElement(_ key: FieldKey, _ element: String, _ visibility: Visibility) {
            if version >= 3 {
                body.writeVarint(slot(key, visibility))
                string(element)
            } else {
                encode(key)
                string(element)
                encode(visibility)
            }
        }

        /// A slot table entry: the key, then the visibility.
        private mutating func encode(_ slot: Slot) {
            encode(slot.key)
            encode(slot.visibility)
        }

        private mutating func encodeObject(_ object: ObjectID, _ stamp: Stamped?) {
            guard version >= 3 else { return id(object.raw) }
            guard let origin = stamp?.origin else {
                body.writeVarint(2 + UInt64(ids.index(of: object.raw)))
                return
            }
            if origin.owner == previousOwner, origin.created.replica == previousCreator {
                body.writeVarint(0)
            } else {
                body.writeVarint(1)
                id(origin.owner.raw)
                id(origin.created.replica.raw)
                previousOwner = origin.owner
                previousCreator = origin.created.replica
            }
            objectClock.write(origin.created, into: &body)
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

        /// A value without its kind tag: strings, currencies and references as table refs.
        private mutating func encodeBody(_ value: Value) {
            switch value {
            case .string(let text), .enumeration(let text):
                string(text)
            case .money(let money):
                OperationCodec.encode(money.amount, into: &body)
                string(money.currency.code)
            case .reference(let object):
                id(object.raw)
            case .null, .integer, .boolean, .decimal, .date, .timestamp:
                OperationCodec.encodeBody(value, into: &body)
            }
        }
    }

    /// The entries of a string, id or slot table, in order of first use, with how often each was asked for.
    struct Table<Entry: Hashable> {
        private(set) var entries: [Entry] = []
        private var positions: [Entry: Int] = [:]
        private var uses: [Int] = []

        /// Up to this many entries are found by comparing them in turn, without hashing: a batch's slots and its
        /// few company and replica ids, looked up for almost every operation.
        private static var scanLimit: Int { 8 }

        /// The entry's position, added at the end on first use.
        mutating func index(of entry: Entry) -> Int {
            if let position = entries.count <= Self.scanLimit ? entries.firstIndex(of: entry) : positions[entry] {
                uses[position] += 1
                return position
            }
            entries.append(entry)
            uses.append(1)
            let position = entries.count - 1
            if entries.count > Self.scanLimit {
                if positions.isEmpty {
                    for (index, known) in entries.enumerated() { positions[known] = index }
                } else {
                    positions[entry] = position
                }
            }
            return position
        }

        /// The same entries, most used first, ties in order of first use: a deterministic order.
        func byUse() -> Table {
            reordered(entries.indices.sorted { uses[$0] != uses[$1] ? uses[$0] > uses[$1] : $0 < $1 })
        }

        /// A table of these entries in `order` (positions in this one).
        fileprivate func reordered(_ order: [Int]) -> Table {
            var table = Table()
            for position in order { _ = table.index(of: entries[position]) }
            return table
        }

        fileprivate func uses(_ position: Int) -> Int { uses[position] }
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

    /// Reads versions 2 and 3 (after the version number).
    struct CompactDecoder {
        private let version: UInt64
        private var reader: ByteReader
        private var strings: [String] = []
        private var ids: [ID128] = []
        private var slots: [Slot] = []
        private var previousObject: ObjectID?
        /// The nonce of the previous operation's object, if a stamp named it: its create carries none.
        private var previousNonce: [UInt8]?
        private var previousReplica: ReplicaID?
        private var previousOwner: CompanyID?
        private var previousCreator: ReplicaID?
        private var clock = DeltaClock()
        private var listClock = DeltaClock()
        private var objectClock = DeltaClock()

        init(_ reader: ByteReader, version: UInt64) {
            self.reader = reader
            self.version = version
        }

        mutating func decode() throws(WireError) -> [Operation] {
            // Each table entry takes at least one byte (a string), two (a version 3 string), three (a slot) or 16
            // (an id): a count the rest of the input cannot hold is a truncation, found before anything is allocated.
            let stringCount = try reader.readCount("string count", limit: maxTableEntries)
            guard stringCount <= reader.remaining else { throw reader.truncated("the string table") }
            strings.reserveCapacity(stringCount)
            if version >= 3 {
                try decodeFrontCodedStrings(stringCount)
            } else {
                for _ in 0..<stringCount {
                    strings.append(try reader.readString("table string", maxBytes: Operation.maxStringBytes))
                }
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
            if version >= 3 {
                let slotCount = try reader.readCount("slot count", limit: maxTableEntries)
                guard slotCount <= reader.remaining / 3 else { throw reader.truncated("the slot table") }
                slots.reserveCapacity(slotCount)
                for _ in 0..<slotCount { slots.append(Slot(key: try decodeKey(), visibility: try decodeVisibility())) }
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

        /// Version 3's strings: each shares a prefix with the one before it, then adds its own bytes. What they
        /// expand to is bounded by four times the batch plus 1 MiB, so a small batch cannot make a large table.
        private mutating func decodeFrontCodedStrings(_ count: Int) throws(WireError) {
            let budget = 4 * (reader.offset + reader.remaining) + (1 << 20)
            var expanded = 0
            var previous: [UInt8] = []
            for _ in 0..<count {
                let shared = try reader.readVarint("shared prefix")
                guard shared <= UInt64(previous.count) else {
                    throw reader.malformed("a string shares \(shared) bytes with one of \(previous.count)")
                }
                let length = try reader.readCount(
                    "table string length",
                    limit: Operation.maxStringBytes - Int(shared)
                )
                var bytes = Array(previous.prefix(Int(shared)))
                bytes += try reader.readSlice(length, "table string")
                expanded += bytes.count
                guard expanded <= budget else {
                    throw WireError(.tooLarge, "operation batch: its string table expands beyond \(budget) bytes")
                }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw reader.malformed("table string is not valid UTF-8")
                }
                strings.append(text)
                previous = bytes
            }
        }

        /// The slot a version 3 field operation refers to.
        private func slot(_ index: UInt64) throws(WireError) -> Slot {
            guard index < UInt64(slots.count) else {
                throw reader.malformed("field slot \(index) is outside a table of \(slots.count)")
            }
            return slots[Int(index)]
        }

        /// The object an operation names: a table id, or (version 3) the owner and stamp of its creation.
        private mutating func decodeObject() throws(WireError) -> (ObjectID, nonce: [UInt8]?) {
            guard version >= 3 else { return (ObjectID(raw: try id("object")), nil) }
            let reference = try reader.readVarint("object")
            if reference >= 2 { return (ObjectID(raw: try Self.entry(of: ids, reference - 2, reader, "object")), nil) }
            if reference == 1 {
                previousOwner = CompanyID(raw: try id("object owner"))
                previousCreator = ReplicaID(raw: try id("object creator"))
            }
            guard let owner = previousOwner, let creator = previousCreator else {
                throw reader.malformed("the first stamped object does not name its owner")
            }
            let created = try objectClock.read(&reader, replica: creator)
            let (object, nonce) = Derivation.objectID(owner: owner, created: created)
            return (object, nonce)
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
            try entry(of: table, try reader.readVarint(field), reader, field)
        }

        /// Entry `index` of `table`; outside it, malformed (`reader` says where).
        private static func entry(
            of table: [ID128],
            _ index: UInt64,
            _ reader: ByteReader,
            _ field: String
        ) throws(WireError) -> ID128 {
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
                (object, previousNonce) = try decodeObject()
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
                if let nonce = previousNonce {
                    kind = .create(type: type, nonce: nonce)
                } else {
                    kind = .create(type: type, nonce: try reader.readBytes(Derivation.nonceByteCount, "create nonce"))
                }
            case Tag.addParticipant:
                kind = .addParticipant(CompanyID(raw: try id("participant")))
            case Tag.removeParticipant:
                kind = .removeParticipant(CompanyID(raw: try id("participant")))
            case Tag.archive:
                kind = .archive(try decodeBool(&reader, "archive flag"))
            case Tag.set:
                let key: FieldKey
                let value: Value
                let visibility: Visibility
                if version >= 3 {
                    let reference = try reader.readVarint("field slot")
                    let slot = try slot(reference >> 4)
                    (key, visibility) = (slot.key, slot.visibility)
                    value = try decodeValue(tag: UInt8(reference & 0x0F))
                } else {
                    key = try decodeKey()
                    value = try decodeValue(tag: try reader.readByte("value kind"))
                    visibility = try decodeVisibility()
                }
                kind = .set(key, value, visibility, preds: try decodeTimestamps("predecessors", own: ownList, replica))
            case Tag.addElement:
                let (key, element, visibility) = try decodeElement()
                kind = .addElement(key, element, visibility)
            case Tag.removeElement:
                let (key, element, visibility) = try decodeElement()
                let observed = try decodeTimestamps("observed adds", own: ownList, replica)
                kind = .removeElement(key, element, observed: observed, visibility)
            case let other:
                throw reader.malformed("unknown operation kind \(other)")
            }
            return Operation(object: object, timestamp: timestamp, kind: kind, writer: writer)
        }

        /// A set element operation's key, element and visibility (version 3: a slot, then the element).
        private mutating func decodeElement() throws(WireError) -> (FieldKey, String, Visibility) {
            if version >= 3 {
                let slot = try slot(try reader.readVarint("field slot"))
                return (slot.key, try string("set element", maxBytes: Operation.maxElementBytes), slot.visibility)
            }
            let key = try decodeKey()
            let element = try string("set element", maxBytes: Operation.maxElementBytes)
            return (key, element, try decodeVisibility())
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

        /// A value of kind `tag`: strings, currencies and references are table refs.
        private mutating func decodeValue(tag: UInt8) throws(WireError) -> Value {
            switch tag {
            case 1:
                return .string(try string("string value", maxBytes: maxStringBytes))
            case 8:
                return .enumeration(try string("enumeration value", maxBytes: Operation.maxElementBytes))
            case 9:
                return .reference(ObjectID(raw: try id("reference")))
            case 5:
                let amount = try decodeDecimal(&reader)
                let code = try string("currency", maxBytes: 3)
                guard code.utf8.count == 3, code.utf8.allSatisfy({ (65...90).contains($0) }),
                    let currency = CurrencyCode(code)
                else { throw reader.malformed("currency is not three upper-case letters") }
                return .money(Money(amount: amount, currency: currency))
            default:
                return try OperationCodec.decodeValue(tag: tag, &reader)
            }
        }
    }
}

extension OperationCodec.Table where Entry == String {
    /// The same strings, most used first, ties in byte order (version 3, which front-codes them), with the bytes
    /// of each in that order.
    func byUseInByteOrder() -> (table: Self, bytes: [[UInt8]]) {
        let bytes = entries.map { Array($0.utf8) }
        let order = entries.indices.sorted { left, right in
            let (leftUses, rightUses) = (uses(left), uses(right))
            return leftUses != rightUses ? leftUses > rightUses : bytes[left].lexicographicallyPrecedes(bytes[right])
        }
        return (reordered(order), order.map { bytes[$0] })
    }
}
