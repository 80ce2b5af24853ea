import EntenteTestSupport
import EntenteWire
import Foundation
import Testing

@testable import Entente

/// The walking-skeleton story in process: three companies, one opportunity, bundles in every direction.
@Suite struct ThreeCompanyTests {
    @Test func sharedFieldsConvergeAndPrivateFieldsNeverLeave() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)

        var opening = Changes()
        opening.joint = [FieldValue("title", "Acme data platform"), FieldValue("stage", "qualified")]
        opening.privateFields = [FieldValue("deal_size", "SENTINEL-GLOBEX-DEAL-SIZE")]
        let id = try await globex.create(type: "opportunity", changes: opening)
        try await globex.invite(id, initech.company)
        try await globex.invite(id, umbra.company)

        var bundles: [(to: Node, bytes: [UInt8])] = []
        bundles.append((initech, try await send(globex, initech)))
        bundles.append((umbra, try await send(globex, umbra)))

        var initechFields = Changes()
        initechFields.shared = [FieldValue("delivery_lead", "Initech PS")]
        initechFields.privateFields = [FieldValue("margin", "SENTINEL-INITECH-MARGIN")]
        try await initech.update(id, changes: initechFields)
        var initechToGlobex = Changes()
        initechToGlobex.shared = [FieldValue("rate_card", "SENTINEL-INITECH-RATES-FOR-GLOBEX")]
        initechToGlobex.sharedWith = [globex.company]
        try await initech.update(id, changes: initechToGlobex)

        var umbraFields = Changes()
        umbraFields.joint = [FieldValue("stage", "technical-validation")]
        umbraFields.shared = [FieldValue("marketplace", "listed")]
        umbraFields.privateFields = [FieldValue("discount", "SENTINEL-UMBRA-DISCOUNT")]
        try await umbra.update(id, changes: umbraFields)
        var umbraToInitech = Changes()
        umbraToInitech.shared = [FieldValue("credits", "SENTINEL-UMBRA-CREDITS-FOR-INITECH")]
        umbraToInitech.sharedWith = [initech.company]
        try await umbra.update(id, changes: umbraToInitech)

        for _ in 0..<2 {
            for from in deal.all {
                for to in deal.all where to !== from { bundles.append((to, try await send(from, to))) }
            }
        }

        let views = try await deal.all.asyncMap { try await $0.object(id) }
        #expect(views[0].joint.map(\.value) == views[1].joint.map(\.value))
        #expect(views[1].joint.map(\.value) == views[2].joint.map(\.value))
        #expect(views[0].joint("stage")?.value == .string("technical-validation"))
        #expect(Set(views.map { $0.participants.map(\.name) }) == [["Globex", "Initech", "Umbra Cloud"]])

        func fieldNames(_ view: ObjectView, of company: String) -> Set<String> {
            Set(view.fields.first { $0.company.name == company }?.fields.map(\.name) ?? [])
        }
        #expect(fieldNames(views[0], of: "Initech") == ["delivery_lead", "rate_card"])
        #expect(fieldNames(views[0], of: "Umbra Cloud") == ["marketplace"])
        #expect(fieldNames(views[1], of: "Umbra Cloud") == ["marketplace", "credits"])
        #expect(fieldNames(views[1], of: "Globex").isEmpty)
        #expect(fieldNames(views[2], of: "Initech") == ["delivery_lead"])
        #expect(views[0].privateFields == ["deal_size"])

        // Sentinel scan: who may hold each secret.
        let entitled: [String: Set<String>] = [
            "SENTINEL-GLOBEX-DEAL-SIZE": ["Globex"],
            "SENTINEL-INITECH-MARGIN": ["Initech"],
            "SENTINEL-INITECH-RATES-FOR-GLOBEX": ["Initech", "Globex"],
            "SENTINEL-UMBRA-DISCOUNT": ["Umbra Cloud"],
            "SENTINEL-UMBRA-CREDITS-FOR-INITECH": ["Umbra Cloud", "Initech"],
        ]
        for (secret, holders) in entitled {
            for (recipient, bytes) in bundles {
                #expect(
                    !contains(bytes, secret),
                    "\(secret) appears in plaintext in a bundle for \(recipient.card.name)"
                )
                let opened = try await recipient.inspect(bytes).flatMap { $0.operations ?? [] }.joined(separator: "\n")
                if !holders.contains(recipient.card.name) {
                    #expect(!opened.contains(secret), "\(secret) was addressed to \(recipient.card.name)")
                }
            }
            for node in deal.all where !holders.contains(node.card.name) {
                #expect(!contains(databaseBytes(node), secret), "\(secret) is in \(node.card.name)'s database")
            }
        }
        // And the scan can fail: an entitled holder's database does contain its secret.
        #expect(contains(databaseBytes(globex), "SENTINEL-GLOBEX-DEAL-SIZE"))
        #expect(contains(databaseBytes(initech), "SENTINEL-UMBRA-CREDITS-FOR-INITECH"))
    }

    @Test func reimportIsHarmlessAndOutOfOrderDeliveryConverges() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        var changes = Changes()
        changes.joint = [FieldValue("title", "Out of order")]
        let id = try await globex.create(type: "opportunity", changes: changes, with: [initech.company, umbra.company])
        let toInitech = try await globex.exportBundle(to: initech.company).encoded()
        try await initech.importBundle(toInitech)
        var note = Changes()
        note.joint = [FieldValue("next_steps", "workshop")]
        try await initech.update(id, changes: note)

        // Umbra gets Initech's write before the object itself: it waits, then applies.
        let early = try await initech.importBundle(toInitech)
        #expect(early.duplicates == early.envelopes && early.applied == 0)
        let fromInitech = try await umbra.importBundle(try await initech.exportBundle(to: umbra.company).encoded())
        #expect(fromInitech.applied > 0, "Initech relays Globex's create, so Umbra can apply everything")
        let before = try await fingerprint(umbra)
        let again = try await umbra.importBundle(try await initech.exportBundle(to: umbra.company).encoded())
        #expect(again.applied == 0 && again.duplicates == again.envelopes)
        #expect(try await fingerprint(umbra) == before)

        // Now strictly out of order: a fresh write from Initech alone, then the rest.
        var stage = Changes()
        stage.joint = [FieldValue("stage", "committed")]
        try await initech.update(id, changes: stage)
        let view = try await umbra.object(id)
        #expect(view.joint("next_steps")?.value == .string("workshop"))
        try await send(initech, umbra)
        #expect(try await umbra.object(id).joint == (try await initech.object(id)).joint)
    }

    @Test func aParticipantResendsItsSharedFieldsToALaterInvitee() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        let id = try await globex.create(type: "opportunity", changes: Changes(), with: [initech.company])
        // Objects Initech holds without fields of its own are not re-sent anything.
        let other = try await globex.create(type: "opportunity", changes: Changes(), with: [initech.company])
        try await send(globex, initech)
        var mine = Changes()
        mine.shared = [FieldValue("deal_desk", "Ana")]  // Initech's field, for every participant
        mine.privateFields = [FieldValue("margin", "SENTINEL-PRIVATE")]
        try await initech.update(id, changes: mine)
        try await send(initech, globex)
        try await globex.invite(id, umbra.company)
        try await globex.invite(other, umbra.company)
        try await send(globex, umbra)
        #expect(try await umbra.object(id).fields.isEmpty, "Globex cannot re-send Initech's field")
        // Initech learns of the invitations and re-sends its shared field, not its private one.
        let report = try await initech.importBundle(try await globex.exportBundle(to: initech.company).encoded())
        #expect(report.resent == 1)
        let bytes = try await send(initech, umbra)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("SENTINEL-PRIVATE"))
        let view = try await umbra.object(id)
        #expect(view.fields.first { $0.company.id == initech.company }?.fields.map(\.value) == [.string("Ana")])
    }

    @Test func aWriteThatArrivesBeforeItsObjectWaitsThenApplies() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        let id = try await globex.create(
            type: "opportunity",
            changes: Changes(),
            with: [initech.company, umbra.company]
        )
        try await send(globex, initech)
        var note = Changes()
        note.joint = [FieldValue("next_steps", "pilot")]
        try await initech.update(id, changes: note)
        // Only Initech's own envelope (no relay of Globex's create).
        let first = try await sendOwn(initech, umbra)
        #expect(first.waiting == 1 && first.applied == 0)
        let second = try await umbra.importBundle(try await globex.exportBundle(to: umbra.company).encoded())
        #expect(second.waiting == 0 && second.applied == 2)
        #expect(try await umbra.object(id).joint("next_steps")?.value == .string("pilot"))
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
