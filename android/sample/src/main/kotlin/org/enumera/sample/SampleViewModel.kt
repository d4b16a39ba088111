package org.enumera.sample

import android.app.Application
import androidx.lifecycle.AndroidViewModel
import androidx.lifecycle.viewModelScope
import java.io.File
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.enumera.android.InterviewFlow
import org.enumera.android.InterviewModel
import org.enumera.android.OkHttpTransport
import org.enumera.ffi.DeviceStore
import org.enumera.ffi.EnumeraException
import org.enumera.ffi.ResponseSummary
import org.enumera.ffi.SyncClient

/** The home screen: forms, responses, sync; and the interview when one is open. */
class SampleViewModel(app: Application) : AndroidViewModel(app) {
    private val store: DeviceStore = DeviceStore.open(File(app.filesDir, "device.db").path)

    val responses = MutableStateFlow<List<ResponseSummary>>(emptyList())
    val message = MutableStateFlow<String?>(null)
    private val _interview = MutableStateFlow<InterviewFlow?>(null)
    val interview: StateFlow<InterviewFlow?> = _interview

    init {
        io {
            try {
                store.device()
            } catch (e: EnumeraException.NotInitialized) {
                store.initDevice("sample tablet", null)
            }
            val form = app.assets.open(FORM).use { it.readBytes() }
            store.installFormBytes(form, FORM)
            refresh()
        }
    }

    fun startInterview() = io {
        val started = store.startInterview(FORM_ID, null, null, false)
        _interview.value = InterviewFlow.open(started)
    }

    fun closeInterview() {
        _interview.value = null
        io { refresh() }
    }

    fun sync(token: String) = io {
        // Up: finalized responses, and the receipt marks them sent. Down:
        // forms central publishes and the participant rosters.
        val report = SyncClient(store, OkHttpTransport(BuildConfig.CENTRAL_URL), token).sync()
        message.value = "Sent ${report.uploaded}, marked ${report.receipt?.marked?.size ?: 0}, " +
            "new forms ${report.formsInstalled.size}, rosters ${report.rosters.size}"
        refresh()
    }

    private fun refresh() {
        responses.value = store.listResponses()
    }

    private fun io(block: suspend () -> Unit) {
        viewModelScope.launch {
            try {
                withContext(Dispatchers.IO) { block() }
            } catch (e: EnumeraException) {
                message.value = InterviewModel.describe(e)
            }
        }
    }

    override fun onCleared() {
        store.close()
    }

    companion object {
        const val FORM = "practice_followup.json"
        const val FORM_ID = "p2p_practice_followup"
    }
}
