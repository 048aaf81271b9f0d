/*
 * amqp_lib.h - rabbitmq-c, opened on first use (dynlib.h): a daemon
 * without AMQP never maps it or the OpenSSL it pulls in (about 1.8 MB of
 * resident pages).
 *
 * Include this instead of <amqp.h>. Every amqp_* function vitalsd calls
 * is a member of one table, and a macro of the function's own name calls
 * through it, so the code reads as plain rabbitmq-c. vt_amqp_conn_open
 * (amqp_conn.h) opens the library before the first call; nothing calls
 * rabbitmq-c without a connection.
 */
#ifndef VT_AMQP_LIB_H
#define VT_AMQP_LIB_H

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <stddef.h>

struct vt_amqp_lib {
	__typeof__(amqp_basic_ack) *amqp_basic_ack;
	__typeof__(amqp_basic_consume) *amqp_basic_consume;
	__typeof__(amqp_basic_publish) *amqp_basic_publish;
	__typeof__(amqp_basic_qos) *amqp_basic_qos;
	__typeof__(amqp_basic_reject) *amqp_basic_reject;
	__typeof__(amqp_channel_close) *amqp_channel_close;
	__typeof__(amqp_channel_open) *amqp_channel_open;
	__typeof__(amqp_confirm_select) *amqp_confirm_select;
	__typeof__(amqp_connection_close) *amqp_connection_close;
	__typeof__(amqp_consume_message) *amqp_consume_message;
	__typeof__(amqp_cstring_bytes) *amqp_cstring_bytes;
	__typeof__(amqp_data_in_buffer) *amqp_data_in_buffer;
	__typeof__(amqp_destroy_connection) *amqp_destroy_connection;
	__typeof__(amqp_destroy_envelope) *amqp_destroy_envelope;
	__typeof__(amqp_destroy_message) *amqp_destroy_message;
	__typeof__(amqp_error_string2) *amqp_error_string2;
	__typeof__(amqp_exchange_bind) *amqp_exchange_bind;
	__typeof__(amqp_exchange_declare) *amqp_exchange_declare;
	__typeof__(amqp_frames_enqueued) *amqp_frames_enqueued;
	__typeof__(amqp_get_rpc_reply) *amqp_get_rpc_reply;
	__typeof__(amqp_get_sockfd) *amqp_get_sockfd;
	__typeof__(amqp_login) *amqp_login;
	__typeof__(amqp_maybe_release_buffers) *amqp_maybe_release_buffers;
	__typeof__(amqp_new_connection) *amqp_new_connection;
	__typeof__(amqp_queue_bind) *amqp_queue_bind;
	__typeof__(amqp_queue_declare) *amqp_queue_declare;
	__typeof__(amqp_read_message) *amqp_read_message;
	__typeof__(amqp_send_method) *amqp_send_method;
	__typeof__(amqp_set_handshake_timeout) *amqp_set_handshake_timeout;
	__typeof__(amqp_set_rpc_timeout) *amqp_set_rpc_timeout;
	__typeof__(amqp_simple_wait_frame_noblock) *amqp_simple_wait_frame_noblock;
	__typeof__(amqp_socket_open_noblock) *amqp_socket_open_noblock;
	__typeof__(amqp_ssl_socket_new) *amqp_ssl_socket_new;
	__typeof__(amqp_ssl_socket_set_cacert) *amqp_ssl_socket_set_cacert;
	__typeof__(amqp_ssl_socket_set_key) *amqp_ssl_socket_set_key;
	__typeof__(amqp_ssl_socket_set_verify_hostname) *amqp_ssl_socket_set_verify_hostname;
	__typeof__(amqp_ssl_socket_set_verify_peer) *amqp_ssl_socket_set_verify_peer;
	__typeof__(amqp_tcp_socket_new) *amqp_tcp_socket_new;
};

extern struct vt_amqp_lib vt_amqp_lib;

/* Open librabbitmq (once; thread-safe). 0, or -1 with err set. */
int vt_amqp_lib_open(char *err, size_t errlen);

/* rabbitmq-c's exported constants, as our own copies. */
extern const amqp_table_t vt_amqp_empty_table;
extern const amqp_bytes_t vt_amqp_empty_bytes;

#ifndef VT_AMQP_LIB_IMPL
#define amqp_basic_ack vt_amqp_lib.amqp_basic_ack
#define amqp_basic_consume vt_amqp_lib.amqp_basic_consume
#define amqp_basic_publish vt_amqp_lib.amqp_basic_publish
#define amqp_basic_qos vt_amqp_lib.amqp_basic_qos
#define amqp_basic_reject vt_amqp_lib.amqp_basic_reject
#define amqp_channel_close vt_amqp_lib.amqp_channel_close
#define amqp_channel_open vt_amqp_lib.amqp_channel_open
#define amqp_confirm_select vt_amqp_lib.amqp_confirm_select
#define amqp_connection_close vt_amqp_lib.amqp_connection_close
#define amqp_consume_message vt_amqp_lib.amqp_consume_message
#define amqp_cstring_bytes vt_amqp_lib.amqp_cstring_bytes
#define amqp_data_in_buffer vt_amqp_lib.amqp_data_in_buffer
#define amqp_destroy_connection vt_amqp_lib.amqp_destroy_connection
#define amqp_destroy_envelope vt_amqp_lib.amqp_destroy_envelope
#define amqp_destroy_message vt_amqp_lib.amqp_destroy_message
#define amqp_error_string2 vt_amqp_lib.amqp_error_string2
#define amqp_exchange_bind vt_amqp_lib.amqp_exchange_bind
#define amqp_exchange_declare vt_amqp_lib.amqp_exchange_declare
#define amqp_frames_enqueued vt_amqp_lib.amqp_frames_enqueued
#define amqp_get_rpc_reply vt_amqp_lib.amqp_get_rpc_reply
#define amqp_get_sockfd vt_amqp_lib.amqp_get_sockfd
#define amqp_login vt_amqp_lib.amqp_login
#define amqp_maybe_release_buffers vt_amqp_lib.amqp_maybe_release_buffers
#define amqp_new_connection vt_amqp_lib.amqp_new_connection
#define amqp_queue_bind vt_amqp_lib.amqp_queue_bind
#define amqp_queue_declare vt_amqp_lib.amqp_queue_declare
#define amqp_read_message vt_amqp_lib.amqp_read_message
#define amqp_send_method vt_amqp_lib.amqp_send_method
#define amqp_set_handshake_timeout vt_amqp_lib.amqp_set_handshake_timeout
#define amqp_set_rpc_timeout vt_amqp_lib.amqp_set_rpc_timeout
#define amqp_simple_wait_frame_noblock vt_amqp_lib.amqp_simple_wait_frame_noblock
#define amqp_socket_open_noblock vt_amqp_lib.amqp_socket_open_noblock
#define amqp_ssl_socket_new vt_amqp_lib.amqp_ssl_socket_new
#define amqp_ssl_socket_set_cacert vt_amqp_lib.amqp_ssl_socket_set_cacert
#define amqp_ssl_socket_set_key vt_amqp_lib.amqp_ssl_socket_set_key
#define amqp_ssl_socket_set_verify_hostname vt_amqp_lib.amqp_ssl_socket_set_verify_hostname
#define amqp_ssl_socket_set_verify_peer vt_amqp_lib.amqp_ssl_socket_set_verify_peer
#define amqp_tcp_socket_new vt_amqp_lib.amqp_tcp_socket_new
#define amqp_empty_table vt_amqp_empty_table
#define amqp_empty_bytes vt_amqp_empty_bytes
#endif

#endif
