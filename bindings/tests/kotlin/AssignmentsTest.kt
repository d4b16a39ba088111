// Assignments through the Kotlin bindings (issue 17, item 5), as an Android
// app sees them: central assigns one official of the roster to the tablet
// by enumerator; a sync brings the signed assignments file with only that
// official's roster row; the app lists its work, starts the interview from
// the assignment, finalizes and syncs; the assignment is done. Run from
// BindingsTest.kt's main() by scripts/test-bindings.sh.

import org.enumera.android.UrlConnectionTransport
import org.enumera.ffi.EnumeraException
import org.enumera.ffi.SyncClient

val assignmentsTests = linkedMapOf<String, () -> Unit>(
    "a tablet gets only its assigned official and fills that interview (issue 17)" to {
        RealCentral().use { central ->
            val store = device()
            enumera("central", "--db", central.db, "assign", "--form", "p2p_practice_followup",
                "--round", "3", "--participant", "MZ-0042", "--enumerator", "enum-7")
            val sync = SyncClient(store, UrlConnectionTransport(central.url), central.token(store))
            val first = sync.sync()
            eq(first.rosters, emptyList(), "no whole roster once participants are assigned")
            eq(first.assignments?.assignments, 1UL, "assignments")
            eq(store.participants().map { it.id }, listOf("MZ-0042"), "only its participant's row")
            val work = store.assignments().single()
            eq(Triple(work.formId, work.participantId, work.round), Triple("p2p_practice_followup", "MZ-0042", 3L), "work")
            eq(work.done, false, "not done yet")
            val interview = store.startAssignedInterview(work.assignmentId)
            replay(interview, steps("practice_followup.quelimane_round3").first)
            interview.finalize()
            val done = store.assignments().single()
            eq(Triple(done.started, done.finalized, done.done), Triple(1U, 1U, true), "done")
            eq(sync.sync().uploaded, 1UL, "sent")
            throws<EnumeraException.BadAssignments> { store.applyAssignments("{}".toByteArray()) }
        }
    },
)
