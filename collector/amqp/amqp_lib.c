/*
 * amqp_lib.c - the table of rabbitmq-c functions and opening the
 * library on first use (amqp_lib.h).
 */
#define VT_AMQP_LIB_IMPL 1
#include "collector/amqp/amqp_lib.h"
#include "collector/base/dynlib.h"
#include "sonames.h"

struct vt_amqp_lib vt_amqp_lib;
const amqp_table_t vt_amqp_empty_table = { 0, NULL };
const amqp_bytes_t vt_amqp_empty_bytes = { 0, NULL };

#define SYM(name) { #name, (void **)&vt_amqp_lib.name }
static const struct vt_dynsym syms[] = {
	SYM(amqp_basic_ack),
	SYM(amqp_basic_consume),
	SYM(amqp_basic_publish),
	SYM(amqp_basic_qos),
	SYM(amqp_basic_reject),
	SYM(amqp_channel_close),
	SYM(amqp_channel_open),
	SYM(amqp_confirm_select),
	SYM(amqp_connection_close),
	SYM(amqp_consume_message),
	SYM(amqp_cstring_bytes),
	SYM(amqp_data_in_buffer),
	SYM(amqp_destroy_connection),
	SYM(amqp_destroy_envelope),
	SYM(amqp_destroy_message),
	SYM(amqp_error_string2),
	SYM(amqp_exchange_bind),
	SYM(amqp_exchange_declare),
	SYM(amqp_frames_enqueued),
	SYM(amqp_get_rpc_reply),
	SYM(amqp_get_sockfd),
	SYM(amqp_login),
	SYM(amqp_maybe_release_buffers),
	SYM(amqp_new_connection),
	SYM(amqp_queue_bind),
	SYM(amqp_queue_declare),
	SYM(amqp_read_message),
	SYM(amqp_send_method),
	SYM(amqp_set_handshake_timeout),
	SYM(amqp_set_rpc_timeout),
	SYM(amqp_simple_wait_frame_noblock),
	SYM(amqp_socket_open_noblock),
	SYM(amqp_ssl_socket_new),
	SYM(amqp_ssl_socket_set_cacert),
	SYM(amqp_ssl_socket_set_key),
	SYM(amqp_ssl_socket_set_verify_hostname),
	SYM(amqp_ssl_socket_set_verify_peer),
	SYM(amqp_tcp_socket_new),
};
#undef SYM

static struct vt_dynlib lib = VT_DYNLIB_INIT(VT_LIBRABBITMQ_SONAME, syms);

int vt_amqp_lib_open(char *err, size_t errlen)
{
	return vt_dynlib_load(&lib, err, errlen);
}
